"""The containerlab export, checked against containerlab's own schema and rules.

The schema is containerlab's, vendored in tests/data/containerlab (source and version
in its README). The interface-name rules are re-stated from containerlab's Go source
(`CheckInterfaceName`, `CheckInterfaceOverlap`, `IsValidInterfaceName`).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nstopo.model.containerlab import export_containerlab
from nstopo.model.yamlfile import parse_text
from nstopo.resources import EXAMPLES
from ruamel.yaml import YAML
from strategies import topologies

CLAB_DATA = Path(__file__).resolve().parents[1] / "data" / "containerlab"
SCHEMA = json.loads((CLAB_DATA / "clab.schema.json").read_text())
SPECIAL_LINK_NODES = {"host", "mgmt-net"}


def clab_problems(text: str) -> list[str]:
    """Everything containerlab would refuse in an exported file: its schema, then the
    interface-name checks it runs on every node before deploying."""
    doc = YAML(typ="safe").load(text)
    validator = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)
    problems = [f"schema: {e.json_path}: {e.message}" for e in validator.iter_errors(doc)]
    nodes = doc["topology"]["nodes"]
    seen: dict[str, set[str]] = {}
    for link in doc["topology"].get("links", []):
        for end in link["endpoints"]:
            node, interface = (
                end.split(":", 1) if isinstance(end, str) else (end["node"], end["interface"])
            )
            if node not in nodes and node not in SPECIAL_LINK_NODES:
                problems.append(f"{node}: no such node")
            kind = (nodes.get(node) or {}).get("kind")
            network_mode = (nodes.get(node) or {}).get("network-mode", "")
            if kind == "linux" and interface == "eth0" and network_mode.lower() != "none":
                problems.append(f"{node}: eth0 is not allowed (network mode is not none)")
            if len(interface.encode()) > 15 or " " in interface or "/" in interface:
                problems.append(f"{node}:{interface}: not a valid interface name")
            if interface in seen.setdefault(node, set()):
                problems.append(f"{node}:{interface}: overlapping interface names")
            seen[node].add(interface)
    return problems


def export_text(text: str) -> str:
    loaded = parse_text(text, "lab.yaml")
    assert not [p for p in loaded.problems if p.severity == "error"], loaded.problems
    return export_containerlab(loaded.topology)


def exported(text: str) -> tuple[dict, list[str]]:
    out = export_text(text)
    header = [line[2:] for line in out.splitlines() if line.startswith("# ")]
    return YAML(typ="safe").load(out), header


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_exports_a_file_containerlab_accepts(path: Path) -> None:
    text = export_text(path.read_text())
    assert clab_problems(text) == []


def test_the_checker_catches_what_containerlab_refuses() -> None:
    bad = "name: x\ntopology:\n  nodes:\n    _x: {kind: linux}\n    a: {kind: linux}\n  links: []\n"
    problems = clab_problems(bad)
    assert any("_x" in p for p in problems) and any("links" in p for p in problems)
    eth0 = "name: x\ntopology:\n  nodes:\n    a: {kind: linux}\n  links:\n"
    eth0 += '    - endpoints: ["a:eth0", "host:v0"]\n'
    assert clab_problems(eth0) == ["a: eth0 is not allowed (network mode is not none)"]


def test_eth0_moves_to_a_free_name_and_routes_follow() -> None:
    doc, header = exported(
        "nstopo: 1\nname: x\nnodes:\n"
        "  a: {kind: netns, routes: [{to: 10.9.0.0/16, dev: eth0, metric: 7}]}\n"
        "  b: {kind: netns}\n"
        "links:\n"
        "  - endpoints: [{node: a, interface: eth0, addresses: [10.1.0.1/24]}, b:eth0]\n"
        "  - endpoints: [a:eth1, b:eth2]\n"
    )
    links = [link["endpoints"] for link in doc["topology"]["links"]]
    assert links == [["a:eth2", "b:eth1"], ["a:eth1", "b:eth2"]]
    assert doc["topology"]["nodes"]["a"]["exec"] == [
        "ip addr add 10.1.0.1/24 dev eth2",
        "ip route replace 10.9.0.0/16 dev eth2 metric 7",
    ]
    assert (
        "Renamed: a:eth0 is a:eth2 (eth0 is containerlab's management interface in a linux node)"
        in header
    )


def test_node_names_containerlab_rejects_are_renamed_and_reported() -> None:
    doc, header = exported(
        "nstopo: 1\nname: x\nnodes:\n"
        "  _x: {kind: netns}\n  ns@1: {kind: netns}\n  ns-1: {kind: netns}\n"
        "  host: {kind: netns}\n  h: {kind: host}\n"
        "links:\n"
        "  - endpoints: [_x:e1, ns@1:e1]\n  - endpoints: [host:e1, h:v-host]\n"
        "  - endpoints: [ns-1:e1, h:v-ns1]\n"
    )
    nodes = doc["topology"]["nodes"]
    assert sorted(nodes) == ["host-ns", "n_x", "ns-1", "ns-1-2"]
    assert [link["endpoints"] for link in doc["topology"]["links"]] == [
        ["n_x:e1", "ns-1-2:e1"],
        ["host-ns:e1", "host:v-host"],
        ["ns-1:e1", "host:v-ns1"],
    ]
    assert any(line.startswith("Renamed: ns@1 is ns-1-2 (") for line in header)
    assert 'Renamed: host is host-ns ("host" is containerlab\'s special host node)' in header


def test_a_lab_without_links_has_no_links_key() -> None:
    doc, _ = exported((EXAMPLES / "loopback.yaml").read_text())
    assert "links" not in doc["topology"]
    assert doc["topology"]["nodes"]["ns1"]["exec"] == ["ip link set lo down"]


def test_what_cannot_map_is_reported_and_what_can_is_carried() -> None:
    text = (
        "nstopo: 1\nname: x\nnodes:\n"
        "  a: {kind: netns}\n"
        "  hb: {kind: bridge, mtu: 1400, mac: '02:00:00:00:00:0b', state: down,"
        " addresses: [10.5.0.1/24]}\n"
        "  nb: {kind: bridge, namespace: a, mtu: 1400, mac: '02:00:00:00:00:0c'}\n"
        "  t0: {kind: tun}\n"
        "  h: {kind: host, routes: [{to: 10.6.0.0/16, dev: v1}]}\n"
        "links:\n"
        "  - endpoints: [{node: a, interface: e1, mac: '02:00:00:00:00:01',"
        " addresses: ['fd00::1/64']}, {node: hb, interface: p-a, addresses: [10.5.0.9/24]}]\n"
        "    state: down\n    mtu: 1450\n"
        "  - endpoints: [nb:p1, h:v1]\n"
    )
    out = export_text(text)
    assert clab_problems(out) == []
    doc, header = exported(text)
    notes = [line for line in header if line.startswith("Not mapped: ")]
    assert notes == [
        "Not mapped: hb: containerlab expects this host bridge to exist and sets none of: "
        "mtu 1400, address 02:00:00:00:00:0b, address 10.5.0.1/24, state down; make it first: "
        "ip link add hb type bridge mtu 1400 address 02:00:00:00:00:0b && "
        "ip addr add 10.5.0.1/24 dev hb",
        "Not mapped: t0: tun devices have no containerlab kind",
        "Not mapped: h: route 10.6.0.0/16: containerlab does not change host routes",
        "Not mapped: hb:p-a: address 10.5.0.9/24 (containerlab sets none in the host)",
        "Not mapped: hb:p-a: state down (containerlab brings this end up)",
    ]
    assert '"02:00:00:00:00:01"' in out  # quoted for YAML 1.1 readers
    first, second = doc["topology"]["links"]
    assert first == {
        "type": "veth",
        "endpoints": [
            {"node": "a", "interface": "e1", "mac": "02:00:00:00:00:01"},
            {"node": "hb", "interface": "p-a"},
        ],
        "mtu": 1450,
    }
    assert second == {"endpoints": ["a:p1", "host:v1"]}
    assert doc["topology"]["nodes"]["a"]["exec"] == [
        "ip link add nb type bridge",
        "ip link set nb mtu 1400 address 02:00:00:00:00:0c",
        "ip link set nb up",
        "ip link set e1 down",
        "ip link set p1 master nb",
        "ip addr add fd00::1/64 dev e1 nodad",
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies(), st.sampled_from(["_x", "ns@1", "host", "mgmt-net", "a.b", "eth0", None]))
def test_any_valid_topology_exports_a_file_containerlab_accepts(topology, odd_name) -> None:
    netns = [name for name, node in topology.nodes() if node.kind == "netns"]
    if odd_name and odd_name not in topology and not (odd_name == "host" and "host" in topology):
        topology.rename_node(netns[0], odd_name)  # names containerlab would refuse
    assert clab_problems(export_containerlab(topology)) == []
