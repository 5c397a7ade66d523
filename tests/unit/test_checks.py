"""checks: and scenarios: in the file (issue 18): read with their positions, the
meaning rules said at file:line:col, the verdicts from what the helper answers, and
the JUnit XML that `nstopo test --junit` writes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from nstopo.backend.checkrunner import Outcome
from nstopo.cli.test_cmd import junit_xml
from nstopo.model.checks import Expectation, KernelProbe
from nstopo.model.problems import TopologyFileError
from nstopo.model.verdicts import (
    address_verdict,
    exec_verdict,
    oper_verdict,
    ping_verdict,
    route_verdict,
    text_verdict,
)
from nstopo.model.yamlfile import dumps, parse_text
from nstopo.resources import EXAMPLES, SCHEMA_FILE
from ruamel.yaml import YAML

HEAD = """\
nstopo: 1
name: lab
nodes:
  a: {kind: netns}
  b: {kind: netns}
links:
  - endpoints: ["a:eth0", "b:eth0"]
"""
JUNIT_XSD = Path(__file__).parents[1] / "data" / "junit" / "junit.xsd"


def problems(text: str) -> list[str]:
    try:
        found = parse_text(text, "lab.yaml").problems
    except TopologyFileError as exc:
        found = exc.problems
    return [p.format() for p in found if p.is_error]


def test_checks_and_scenarios_are_read_in_order() -> None:
    loaded = parse_text(
        HEAD + "checks:\n"
        "  - name: a to b\n"
        "    ping: {from: a, to: b, interface: eth0}\n"
        "    expect: {max_loss: 10}\n"
        "  - name: route\n"
        "    kernel: {node: a, route: default}\n"
        "    expect: absent\n"
        "    timeout: 2\n"
        "scenarios:\n"
        "  - name: flap\n"
        "    steps:\n"
        "      - {link: 'a:eth0', state: down}\n"
        "      - wait: 0.5\n"
        "      - check: a to b\n"
        "      - apply: other.yaml\n"
    )
    assert loaded.problems == []
    first, second = loaded.checks
    assert (first.kind, first.ping.source, first.ping.interface) == ("ping", "a", "eth0")
    assert first.expect == Expectation(max_loss=10) and first.wait == 5.0
    assert (second.kind, second.expect, second.wait) == ("kernel", "absent", 2.0)
    assert [s.action for s in loaded.scenarios[0].steps] == ["link", "wait", "check", "apply"]
    assert first.nodes() == ["a", "b"]


def test_saving_keeps_the_checks_as_written() -> None:
    text = HEAD + "checks:\n  - name: x   # the comment stays\n    ping: {from: a, to: b}\n"
    loaded = parse_text(text)
    loaded.topology.update_node("a", loopback="down")
    saved = dumps(loaded.topology, loaded)
    assert "checks:\n  - name: x   # the comment stays\n    ping: {from: a, to: b}\n" in saved


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("  - name: x\n    ping: {from: zz, to: b}\n",
         'lab.yaml:10:12: error: check "x" names node "zz"'),
        ("  - name: x\n    ping: {from: a, to: b}\n    expect: {contains: y}\n",
         'lab.yaml:11:14: error: a ping check has no "contains" to expect'),
        ("  - name: x\n    ping: {from: a, to: b}\n    expect: present\n",
         'lab.yaml:11:5: error: a ping check cannot expect "present"; expect fail or reply'),
        ("  - name: x\n",
         'lab.yaml:9:5: error: check "x" asks none; give it exactly one of'),
        ("  - name: x\n    ping: {from: a, to: b}\n    kernel: {node: a, route: default}\n",
         'lab.yaml:9:5: error: check "x" asks ping and kernel'),
        ("  - name: x\n    exec: {node: a, command: ls}\n",
         'lab.yaml:9:5: error: check "x" says nothing to expect'),
        ("  - name: x\n    exec: {node: a, command: ls}\n    expect: {matches: '('}\n",
         "lab.yaml:11:14: error: matches: '(' is not a regular expression"),
        ("  - name: x\n    kernel: {node: a, address: 10.0.0.1, route: default}\n",
         'lab.yaml:10:5: error: check "x" should ask the kernel one thing'),
        ("  - name: x\n    ping: {from: a, to: b}\n  - name: x\n    ping: {from: b, to: a}\n",
         'lab.yaml:11:5: error: check 2 has the name "x" of check 1'),
    ],
)  # fmt: skip
def test_a_checks_mistake_is_said_at_its_place(body: str, expected: str) -> None:
    found = problems(HEAD + "checks:\n" + body)
    assert any(line.startswith(expected) for line in found), found


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ("      - {link: 'a:eth9', state: down}\n",
         'lab.yaml:11:10: error: no link ends at "a:eth9"'),
        ("      - {link: 'a:eth0'}\n", "lab.yaml:11:9: error: a link step needs state"),
        ("      - {wait: 1, apply: x.yaml}\n", "lab.yaml:11:9: error: step 1 says apply and wait"),
        ("      - check: nothing-like-it\n",
         'lab.yaml:11:9: error: no check is called "nothing-like-it"'),
        ("      - check: {name: y, ping: {from: q, to: b}}\n",
         'lab.yaml:11:33: error: check "y" names node "q"'),
    ],
)  # fmt: skip
def test_a_steps_mistake_is_said_at_its_place(steps: str, expected: str) -> None:
    found = problems(HEAD + "scenarios:\n  - name: s\n    steps:\n" + steps)
    assert any(line.startswith(expected) for line in found), found


def test_the_json_schema_accepts_every_examples_checks() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    for example in EXAMPLES.glob("*.yaml"):
        data = YAML(typ="safe", pure=True).load(example.read_text())
        assert data.get("checks"), f"{example.name} has no checks"
        assert list(validator.iter_errors(data)) == [], example.name
        assert parse_text(example.read_text()).checks


# -- verdicts ------------------------------------------------------------------------------

SUMMARY = {"transmitted": 2, "received": 2, "loss": 0.0, "reason": "count",
           "avg": 0.05, "max": 0.08}  # fmt: skip


def test_ping_verdicts() -> None:
    assert ping_verdict(SUMMARY, None, None).passed
    assert not ping_verdict(SUMMARY, None, "fail").passed
    lost = {**SUMMARY, "received": 1, "loss": 50.0}
    assert ping_verdict(lost, None, "reply").passed  # a reply came
    verdict = ping_verdict(lost, None, Expectation(max_loss=10))
    assert not verdict.passed and "more than 10% loss" in verdict.evidence
    slow = ping_verdict(SUMMARY, None, Expectation(max_rtt=0.01))
    assert not slow.passed and "longer than 0.01 ms" in slow.evidence
    none = {**SUMMARY, "received": 0, "loss": 100.0, "reason": "count"}
    assert ping_verdict(none, None, "fail").passed
    assert ping_verdict(none, None, None).evidence == "2 sent, 0 received, 100% loss (count)"
    unsent = ping_verdict(None, "Network is unreachable", "fail")
    assert unsent.passed and "Network is unreachable" in unsent.evidence


def test_text_verdicts() -> None:
    lines = ["out ARP, Request who-has 10.0.0.2", "in  ARP, Reply 10.0.0.2 is-at 02:..."]
    assert text_verdict(lines, Expectation(contains="Reply"), "packets").passed
    lacking = text_verdict(lines, Expectation(lacks="Request"), "packets")
    assert not lacking.passed and lacking.evidence == f'"Request" was there: {lines[0]}'
    assert not text_verdict(lines, Expectation(count=3), "packets").passed
    assert text_verdict(lines, Expectation(count=2, matches=r"^in\s+ARP"), "packets").passed
    assert text_verdict([], Expectation(contains="x"), "packets").evidence == 'no "x" in no packets'


def test_exec_verdicts() -> None:
    done = {"status": 0, "stdout": "default via 10.0.0.1 dev eth0\n", "stderr": ""}
    assert exec_verdict(done, Expectation(contains="default via")).passed
    refused = exec_verdict({**done, "status": 2, "stderr": "no such"}, Expectation(status=0))
    assert not refused.passed and refused.evidence == "exit status 2, not 0: no such"
    assert not exec_verdict({**done, "status": 1}, Expectation()).passed


def test_kernel_verdicts() -> None:
    probe = KernelProbe(node="a", interface="eth0", oper="up")
    assert oper_verdict(probe, {"eth0": "UP"}, None).passed
    assert not oper_verdict(probe, {"eth0": "DOWN"}, None).passed
    assert oper_verdict(probe, {"eth0": "DOWN"}, "absent").passed
    gone = oper_verdict(probe, {"lo": "UNKNOWN"}, None)
    assert not gone.passed and gone.evidence == "no interface eth0 (there: lo)"
    held = {"eth0": ["10.0.0.1/24"], "br0": []}
    assert address_verdict(KernelProbe(node="a", address="10.0.0.1"), held, None).passed
    assert not address_verdict(KernelProbe(node="a", address="10.0.0.1/16"), held, None).passed
    on_br0 = KernelProbe(node="a", address="10.0.0.1/24", interface="br0")
    assert address_verdict(on_br0, held, "absent").passed
    routes = [{"to": "default", "via": "10.0.0.1"}, {"to": "10.9.0.0/16", "dev": "eth0"}]
    via = KernelProbe(node="a", route="default", via="10.0.0.1")
    assert route_verdict(via, routes, None).passed
    other = KernelProbe(node="a", route="default", via="10.0.0.9")
    assert not route_verdict(other, routes, None).passed
    assert route_verdict(KernelProbe(node="a", route="10.9.0.1/16"), routes, None).passed


def test_the_junit_xml_validates_and_escapes(tmp_path: Path) -> None:
    outcomes = [
        Outcome("works", True, "2 sent, 2 received", 0.21),
        Outcome('<odd> & "quoted"', False, 'no "x" in 0 packets', 1.5, scenario="flap"),
    ]
    out = tmp_path / "r.xml"
    out.write_bytes(junit_xml("lab", outcomes))
    schema = xmlschema.XMLSchema(str(JUNIT_XSD))
    schema.validate(str(out))
    suite = schema.to_dict(str(out))["testsuite"][0]
    assert (suite["@tests"], suite["@failures"]) == (2, 1)
    failed = suite["testcase"][1]
    assert failed["@name"] == '<odd> & "quoted"' and failed["@classname"] == "lab.flap"
    broken = tmp_path / "broken.xml"
    broken.write_text('<testsuites><testsuite name="x"/></testsuites>')
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate(str(broken))  # the schema does refuse something
