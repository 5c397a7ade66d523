"""Every validation rule, each with a file that breaks it: rule, position and words."""

from __future__ import annotations

import pytest
from nstopo.model.problems import Problem, TopologyFileError
from nstopo.model.validate import validate
from nstopo.model.yamlfile import parse_text


def problems_of(text: str) -> list[Problem]:
    """Structural problems (raised) or semantic ones, placed at file:line:col."""
    try:
        loaded = parse_text(text, "lab.yaml")
    except TopologyFileError as exc:
        return exc.problems
    # What the editor sees for the loaded graph must agree with the file's own check.
    graph_rules = {p.rule for p in validate(loaded.topology)}
    assert graph_rules <= {p.rule for p in loaded.problems}
    return loaded.problems


HEAD = "nstopo: 1\nname: lab\n"

# (id, file text after HEAD, rule, line, col, words the message must contain)
CASES = [
    (
        "unknown key",
        "nodes:\n  a: {kind: netns, colour: red}\n",
        "unknown-key",
        4,
        20,
        'key "colour" is not a known key; use one of: kind, loopback',
    ),
    ("unknown top key", "nodez: {}\n", "unknown-key", 3, 1, "use one of: nstopo, name"),
    (
        "bad kind",
        "nodes:\n  a:\n    kind: router\n",
        "bad-kind",
        5,
        5,
        'has kind "router"; use one of: netns, bridge, tap, tun, host',
    ),
    ("missing kind", "nodes:\n  a: {loopback: up}\n", "missing-key", 4, 3, 'has no "kind"'),
    (
        "bad value",
        "nodes:\n  a: {kind: netns, loopback: sideways}\n",
        "bad-value",
        4,
        20,
        "input should be 'up' or 'down'",
    ),
    (
        "bad type",
        "nodes:\n  br0: {kind: bridge, mtu: big}\n",
        "bad-value",
        4,
        23,
        "should be a number, not text",
    ),
    (
        "mtu range",
        "nodes:\n  br0: {kind: bridge, mtu: 12}\n",
        "bad-value",
        4,
        23,
        "greater than or equal to 68",
    ),
    ("format version", "", "format-version", 1, 1, "reads format 1"),
    ("lab name", "", "lab-name", 2, 1, "lowercase letters"),
    (
        "interface name too long",
        "nodes:\n  a: {kind: netns}\n  b: {kind: netns}\nlinks:\n"
        '  - endpoints: ["a:averyverylongname", "b:eth0"]\n',
        "interface-name",
        7,
        17,
        "is 17 bytes long; interface names are at most 15 bytes",
    ),
    (
        "interface name with slash",
        "nodes:\n  a: {kind: netns}\n  b: {kind: netns}\nlinks:\n"
        "  - endpoints: [{node: a, interface: e/0}, b:eth0]\n",
        "interface-name",
        7,
        27,
        "contains a slash",
    ),
    (
        "bridge name with space",
        "nodes:\n  'br 0': {kind: bridge}\n",
        "interface-name",
        4,
        3,
        "contains white space",
    ),
    ("node named dot-dot", "nodes:\n  '..': {kind: netns}\n", "node-name", 4, 3, 'cannot be ".."'),
    (
        "duplicate interface across a bridge and a veth",
        "nodes:\n  hub: {kind: netns}\n  br0: {kind: bridge, namespace: hub}\n"
        "  a: {kind: netns}\nlinks:\n  - endpoints: [hub:br0, a:eth0]\n",
        "duplicate-interface",
        8,
        17,
        'interface "br0" is already defined in namespace "hub"',
    ),
    (
        "duplicate interface with loopback",
        "nodes:\n  a: {kind: netns}\n  b: {kind: netns}\nlinks:\n  - endpoints: [a:lo, b:eth0]\n",
        "duplicate-interface",
        7,
        17,
        "(the loopback)",
    ),
    (
        "missing node",
        "nodes:\n  a: {kind: netns}\nlinks:\n  - endpoints: [a:eth0, ghost:eth0]\n",
        "missing-node",
        6,
        25,
        'names node "ghost", which does not exist',
    ),
    (
        "veth to a tap",
        "nodes:\n  a: {kind: netns}\n  t0: {kind: tap}\nlinks:\n  - endpoints: [a:eth0, t0:x]\n",
        "endpoint-kind",
        7,
        25,
        "ends on tap",
    ),
    (
        "bridge in a missing namespace",
        "nodes:\n  br0: {kind: bridge, namespace: nowhere}\n",
        "namespace-ref",
        4,
        23,
        "there is no such node",
    ),
    (
        "bridge inside a bridge",
        "nodes:\n  br0: {kind: bridge}\n  br1: {kind: bridge, namespace: br0}\n",
        "namespace-ref",
        5,
        23,
        "which is a bridge",
    ),
    (
        "tap on a bridge elsewhere",
        "nodes:\n  hub: {kind: netns}\n  br0: {kind: bridge, namespace: hub}\n"
        "  tap0: {kind: tap, bridge: br0}\n",
        "bridge-namespace",
        6,
        21,
        "a port must be in its bridge's namespace",
    ),
    (
        "tap on a non-bridge",
        "nodes:\n  a: {kind: netns}\n  tap0: {kind: tap, bridge: a}\n",
        "bridge-ref",
        5,
        21,
        "it is a netns",
    ),
    (
        "tun on a bridge",
        "nodes:\n  br0: {kind: bridge}\n  tun0: {kind: tun, bridge: br0}\n",
        "tun-bridge",
        5,
        21,
        "use a tap instead",
    ),
    (
        "malformed address",
        "nodes:\n  br0: {kind: bridge, addresses: [10.0.0.300/24]}\n",
        "address",
        4,
        35,
        "is not an address with a prefix length",
    ),
    (
        "address without prefix",
        "nodes:\n  br0: {kind: bridge, addresses: [10.0.0.3]}\n",
        "address",
        4,
        35,
        "it has no prefix length",
    ),
    (
        "duplicate address in one namespace",
        "nodes:\n  a: {kind: netns}\n  b: {kind: netns}\nlinks:\n"
        "  - endpoints:\n      - {node: a, interface: e1, addresses: [10.0.0.1/24]}\n"
        "      - {node: b, interface: e1, addresses: [10.0.0.2/24]}\n"
        "  - endpoints:\n      - {node: a, interface: e2, addresses: [10.0.0.1/30]}\n"
        "      - {node: b, interface: e2}\n",
        "duplicate-address",
        11,
        46,
        'address 10.0.0.1 is already used in namespace "a"',
    ),
    (
        "unreachable gateway",
        "nodes:\n  a:\n    kind: netns\n    routes:\n      - {to: default, via: 10.9.9.1}\n"
        "  b: {kind: netns}\nlinks:\n"
        "  - endpoints: [{node: a, interface: eth0, addresses: [10.0.0.2/24]}, b:eth0]\n",
        "route-gateway",
        7,
        23,
        'gateway 10.9.9.1 is in no subnet of namespace "a"',
    ),
    (
        "route dev missing",
        "nodes:\n  a:\n    kind: netns\n    routes:\n      - {to: 10.9.0.0/16, dev: eth9}\n",
        "route-dev",
        7,
        27,
        'uses dev "eth9", which is not an interface of namespace "a"',
    ),
    (
        "route with host bits",
        "nodes:\n  a:\n    kind: netns\n    routes:\n      - {to: 10.9.0.1/16, dev: lo}\n",
        "route",
        7,
        10,
        "has host bits set",
    ),
    (
        "route mixing families",
        "nodes:\n  a:\n    kind: netns\n    routes:\n      - {to: 10.9.0.0/16, via: 'fd00::1'}\n",
        "route",
        7,
        27,
        "use one family",
    ),
    (
        "sysctl outside the allowlist",
        "nodes:\n  a: {kind: netns, sysctls: {kernel.panic: 1}}\n",
        "sysctl",
        4,
        30,
        'sysctl "kernel.panic" is not one nstopo may set',
    ),
    (
        "bad mac",
        "nodes:\n  br0: {kind: bridge, mac: '02:00:00:00:00'}\n",
        "mac",
        4,
        23,
        "is not a MAC address",
    ),
    (
        "multicast mac",
        "nodes:\n  br0: {kind: bridge, mac: '01:00:00:00:00:01'}\n",
        "mac",
        4,
        23,
        "is a multicast address",
    ),
    (
        "two host nodes",
        "nodes:\n  h1: {kind: host}\n  h2: {kind: host}\n",
        "single-host",
        5,
        3,
        'link to "h1" instead',
    ),
    ("bad subnet", "subnet: 10.0.0.1/8\nnodes: {}\n", "subnet", 3, 1, "is not a network"),
    (
        "link that is not a mapping",
        "nodes:\n  a: {kind: netns}\nlinks: [5]\n",
        "bad-value",
        5,
        9,
        "should be a mapping of keys to values",
    ),
    (
        "short endpoint without colon",
        "nodes:\n  a: {kind: netns}\nlinks:\n  - endpoints: [a-eth0, a:eth1]\n",
        "bad-value",
        6,
        17,
        'a short endpoint is written "node:interface"',
    ),
]
CASES += [
    (
        "route via a gateway on a down link",
        "nodes:\n  a:\n    kind: netns\n    routes: [{to: default, via: 10.1.0.2}]\n"
        "  b: {kind: netns}\nlinks:\n"
        "  - endpoints: [{node: a, interface: eth0, addresses: [10.1.0.1/24]}, b:eth0]\n"
        "    state: down\n",
        "route-down",
        6,
        14,
        'gateway 10.1.0.2 is reached through "eth0", which is down (state: down on link 1)',
    ),
    (
        "route through a down bridge",
        "nodes:\n  a:\n    kind: netns\n    routes: [{to: 10.9.0.0/16, dev: br0}]\n"
        "  br0: {kind: bridge, namespace: a, state: down}\n",
        "route-down",
        6,
        14,
        'it uses "br0", which is down (state: down on node "br0")',
    ),
]
VERSION_OVERRIDES = {
    "format version": "nstopo: 2\nname: lab\n",
    "lab name": "nstopo: 1\nname: Lab_1\n",
}


@pytest.mark.parametrize(("case", "body", "rule", "line", "col", "words"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_rule(case: str, body: str, rule: str, line: int, col: int, words: str) -> None:
    text = VERSION_OVERRIDES.get(case, HEAD) + body
    found = [p for p in problems_of(text) if p.rule == rule]
    assert found, f"no {rule} problem; got {[p.format() for p in problems_of(text)]}"
    problem = found[0]
    assert problem.is_error
    assert words in problem.message
    assert (problem.line, problem.col) == (line, col), problem.format()
    assert problem.format().startswith(f"lab.yaml:{line}:{col}: error: ")
    assert problem.format().endswith(f"[{rule}]")


def test_address_on_an_enslaved_port_is_a_warning_not_an_error() -> None:
    text = HEAD + (
        "nodes:\n  hub: {kind: netns}\n  br0: {kind: bridge, namespace: hub}\n"
        "  a: {kind: netns}\nlinks:\n"
        "  - endpoints: [{node: br0, interface: p0, addresses: [10.77.0.1/24]}, a:eth0]\n"
    )
    problems = problems_of(text)
    assert [(p.severity, p.rule, p.line) for p in problems] == [("warning", "enslaved-address", 8)]
    assert "put the address on the bridge" in problems[0].message


def test_an_enslaved_tap_with_an_address_warns_too() -> None:
    text = HEAD + (
        "nodes:\n  br0: {kind: bridge}\n"
        "  tap0: {kind: tap, bridge: br0, addresses: [10.0.0.5/24]}\n"
    )
    assert [p.rule for p in problems_of(text)] == ["enslaved-address"]


def test_gateway_reachable_through_its_dev_and_link_local() -> None:
    text = HEAD + (
        "nodes:\n  a:\n    kind: netns\n    routes:\n"
        "      - {to: 10.9.0.0/16, via: 10.0.0.1, dev: eth0}\n"
        "      - {to: default, via: 'fe80::1', dev: eth0}\n"
        "  b: {kind: netns}\nlinks:\n"
        "  - endpoints: [{node: a, interface: eth0, addresses: [10.0.0.2/24]}, b:eth0]\n"
    )
    assert problems_of(text) == []


def test_a_namespace_named_host_is_the_host_without_a_host_node() -> None:
    assert problems_of(HEAD + "nodes:\n  br0: {kind: bridge, namespace: host}\n") == []


def test_every_problem_is_one_sentence_with_a_fix() -> None:
    for case, body, *_ in CASES:
        for problem in problems_of(VERSION_OVERRIDES.get(case, HEAD) + body):
            assert "\n" not in problem.message
            assert ";" in problem.message, f"{case}: no fix in {problem.message!r}"


def test_a_bridge_mtu_its_ports_override_is_a_warning() -> None:
    text = HEAD + (
        "nodes:\n  hub: {kind: netns}\n  br0: {kind: bridge, namespace: hub, mtu: 9000}\n"
        "  a: {kind: netns}\nlinks:\n  - endpoints: [a:eth0, br0:p0]\n"
    )
    (problem,) = [p for p in problems_of(text) if p.rule == "bridge-mtu"]
    assert not problem.is_error and (problem.line, problem.col) == (5, 39)
    assert "the kernel gives a bridge its smallest port's MTU when a port joins: 1500" in (
        problem.message
    )
    matching = text.replace("br0:p0]", "br0:p0]\n    mtu: 9000")
    assert not [p for p in problems_of(matching) if p.rule == "bridge-mtu"]
