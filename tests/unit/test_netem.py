"""`netem:` in the file: parsing, units, checks with file:line:col, round trips, the
JSON Schema, plan steps and their `tc` commands, and replays on the kernel model."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernelsim import comparable, replay
from nstopo.model import netem as n
from nstopo.model.netem import Netem
from nstopo.model.plan import diff, plan_up
from nstopo.model.problems import Problem, TopologyFileError
from nstopo.model.script import export_script
from nstopo.model.state import kernel_state
from nstopo.model.topology import Topology
from nstopo.model.types import Endpoint, HostNode, Link, NetnsNode, replace
from nstopo.model.yamlfile import dumps, parse_text
from nstopo.resources import SCHEMA_FILE
from ruamel.yaml import YAML
from strategies import topologies

LAB = """\
nstopo: 1
name: lab
nodes:
  a: {kind: netns}
  b: {kind: netns}
  c: {kind: netns}
links:
  - endpoints: ["a:eth0", "b:eth0"]
    netem: {delay: 20ms, jitter: 2ms, loss: 1%, rate: 10mbit}   # what each end sends
  - endpoints:
      - {node: a, interface: eth1, netem: {delay: 50ms}}        # only what a sends
      - {node: c, interface: eth0}
"""


def problems_of(text: str) -> list[Problem]:
    try:
        return parse_text(text, "lab.yaml").problems
    except TopologyFileError as exc:
        return exc.problems


def with_netem(text: str) -> str:
    return LAB.replace("{delay: 20ms, jitter: 2ms, loss: 1%, rate: 10mbit}", text)


def test_link_and_endpoint_netem_are_read_and_saved_as_written() -> None:
    loaded = parse_text(LAB, "lab.yaml")
    assert loaded.problems == []
    first, second = (link for _, link in loaded.topology.links())
    assert first.netem == Netem(delay="20ms", jitter="2ms", loss="1%", rate="10mbit")
    assert second.netem is None and second.endpoints[0].netem == Netem(delay="50ms")
    assert dumps(loaded.topology, loaded) == LAB  # comments and flow forms kept
    again = parse_text(dumps(loaded.topology), "again.yaml").topology  # written afresh
    assert [link for _, link in again.links()] == [first, second]


def test_changing_a_delay_touches_only_that_value() -> None:
    loaded = parse_text(LAB, "lab.yaml")
    topo = loaded.topology.copy()
    lid = topo.link_ids()[0]
    topo.update_link(lid, netem=replace(topo.link(lid).netem, delay="30ms"))
    text = dumps(topo, loaded)
    assert text.splitlines()[8].startswith("    netem: {delay: 30ms, jitter: 2ms, loss: 1%")
    assert text.replace("30ms", "20ms", 1).split("\n")[9:] == LAB.split("\n")[9:]
    assert parse_text(text).topology.link(lid).netem.delay == "30ms"
    topo.update_link(lid, netem=None)
    assert "netem: {delay: 20ms, jitter" not in dumps(topo, loaded)


@pytest.mark.parametrize(
    ("netem", "line", "col", "words"),
    [
        ("{jitter: 2ms}", 9, 13, "link 1: jitter without delay"),
        ("{reorder: 25%}", 9, 13, "link 1: reorder without delay"),
        ("{delay: 20ms, loss: 140%}", 9, 26, 'key "loss": is more than 100%'),
        ("{delay: 20}", 9, 13, "should be text like 20ms"),
        ("{rate: 10mbps}", 9, 13, "should be written like 10mbit"),
        ("{limit: 0}", 9, 13, 'key "limit"'),
        ("{latency: 20ms}", 9, 13, 'key "latency" is not a known key; use one of: delay'),
        ("{delay: 300s}", 9, 13, "longer than netem can hold"),
        ("{rate: 40gbit}", 9, 13, "out of netem's range"),
    ],
)
def test_bad_netem_names_file_line_col_and_the_reason(
    netem: str, line: int, col: int, words: str
) -> None:
    found = [p for p in problems_of(with_netem(netem)) if p.is_error]
    assert len(found) == 1, found
    assert (found[0].file, found[0].line, found[0].col) == ("lab.yaml", line, col)
    assert words in found[0].message, found[0].message


def test_endpoint_netem_is_checked_at_the_endpoint() -> None:
    text = LAB.replace("netem: {delay: 50ms}", "netem: {jitter: 5ms}")
    (problem,) = problems_of(text)
    assert (problem.line, problem.col) == (11, 44)  # at "jitter"
    assert problem.message.startswith("link 2, endpoint 1: jitter without delay")


def test_the_json_schema_accepts_netem_and_refuses_what_validate_refuses() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))

    def errors(text: str) -> list[str]:
        return [e.message for e in validator.iter_errors(YAML(typ="safe").load(text))]

    assert errors(LAB) == []
    assert errors(with_netem("{delay: 1.5ms, corrupt: 0.5%, duplicate: 100%, limit: 50}")) == []
    assert errors(with_netem("{jitter: 2ms}"))  # dependentRequired: delay
    assert errors(with_netem("{loss: 140%}"))
    assert errors(with_netem("{rate: 10}"))


def test_units_in_the_kernels_terms() -> None:
    v = n.values(Netem(delay="20ms", jitter="500us", loss="1%", rate="10mbit", limit=50))
    assert (v.delay_us, v.jitter_us, v.rate_bytes, v.limit) == (20_000, 500, 1_250_000, 50)
    assert v.delay_ticks == 312_500  # 64 ns ticks, as `tc` sends 20ms
    assert v.loss == round(0.01 * (2**32 - 1))
    assert n.values(Netem(loss="100%")).loss == 2**32 - 1
    assert n.from_values(v) == Netem(delay="20ms", jitter="500us", loss="1%", rate="10mbit",
                                     limit=50)  # fmt: skip
    assert n.same(Netem(delay="1s"), Netem(delay="1000ms"))
    assert not n.same(Netem(delay="1s"), None) and n.same(Netem(), None)
    assert n.from_values(n.values(Netem(rate="1.5mbit", corrupt="0.5%"))) == Netem(
        rate="1500kbit", corrupt="0.5%"
    )


def test_label_is_short() -> None:
    assert n.label(Netem(delay="20ms", jitter="2ms", loss="1%", rate="10mbit")) == (
        "20 ms ±2, 1% loss, 10 Mbit/s"
    )
    assert n.label(Netem(delay="1s", jitter="300ms")) == "1 s ±300 ms"
    assert n.label(Netem(rate="512kbit")) == "512 kbit/s"
    assert n.label(None) == "" and n.label(Netem()) == ""


def test_plan_sets_each_ends_qdisc_as_tc_commands() -> None:
    topo = parse_text(LAB).topology
    commands = [c for c in plan_up(topo).commands() if c.startswith("tc")]
    assert commands == [
        "tc -n a qdisc replace dev eth0 root netem delay 20ms 2ms loss 1% rate 10mbit",
        "tc -n b qdisc replace dev eth0 root netem delay 20ms 2ms loss 1% rate 10mbit",
        "tc -n a qdisc replace dev eth1 root netem delay 50ms",
    ]
    script = export_script(topo)
    assert "  tc -n a qdisc replace dev eth1 root netem delay 50ms" in script
    assert "quietly" not in script.split("down()")[0]


def test_an_endpoints_netem_replaces_the_links_and_empty_means_none() -> None:
    topo = parse_text(LAB).topology
    lid = topo.link_ids()[0]
    link = topo.link(lid)
    quiet_b = replace(link.endpoints[1], netem=Netem())
    slow_a = replace(link.endpoints[0], netem=Netem(delay="5ms"))
    topo.update_link(lid, endpoints=(slow_a, quiet_b))
    state = kernel_state(topo)
    assert state.devices[("a", "eth0")].netem == Netem(delay="5ms")
    assert state.devices[("b", "eth0")].netem is None


def test_changing_an_impairment_is_one_qdisc_step_per_end_and_removing_deletes_it() -> None:
    before = parse_text(LAB).topology
    after = before.copy()
    lid = after.link_ids()[0]
    after.update_link(lid, netem=Netem(delay="10ms"))
    assert diff(before, after).commands() == [
        "tc -n a qdisc replace dev eth0 root netem delay 10ms",
        "tc -n b qdisc replace dev eth0 root netem delay 10ms",
    ]
    after.update_link(lid, netem=None)
    assert diff(before, after).commands() == [
        "tc -n a qdisc del dev eth0 root",
        "tc -n b qdisc del dev eth0 root",
    ]
    same_effect = before.copy()
    same_effect.update_link(lid, netem=replace(before.link(lid).netem, delay="20000us"))
    assert len(diff(before, same_effect)) == 0  # the kernel already holds it


def test_host_side_qdisc_has_no_namespace_option() -> None:
    topo = Topology("lab")
    topo.add_node("host", HostNode())
    topo.add_node("a", NetnsNode())
    topo.add_link(Link((Endpoint("host", "v-a", netem=Netem(loss="2%")), Endpoint("a", "eth0"))))
    assert "tc qdisc replace dev v-a root netem loss 2%" in plan_up(topo).commands()


# -- property: every netem change replayed on the kernel model reaches the target ------------

impairments = st.none() | st.builds(
    Netem,
    delay=st.sampled_from([None, "1ms", "20ms", "20000us", "1.5s"]),
    loss=st.sampled_from([None, "1%", "0.5%", "100%"]),
    rate=st.sampled_from([None, "1mbit", "512kbit"]),
    limit=st.sampled_from([None, 10, 1000]),
)


@st.composite
def impaired(draw: st.DrawFn, topo: Topology) -> Topology:
    """`topo` with netem drawn for each link and each endpoint (some empty: `{}`)."""
    out = topo.copy()
    for lid, link in topo.links():
        ends = tuple(
            replace(ep, netem=draw(impairments | st.just(Netem()))) for ep in link.endpoints
        )
        out.update_link(lid, netem=draw(impairments), endpoints=ends)
    return out


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_every_netem_change_replayed_on_the_kernel_model_reaches_the_target(
    data: st.DataObject,
) -> None:
    base = data.draw(topologies())
    a = data.draw(impaired(base))
    b = data.draw(impaired(base if data.draw(st.booleans()) else data.draw(topologies())))
    reached = replay(kernel_state(a), diff(a, b))
    assert comparable(reached) == comparable(kernel_state(b))
    assert len(diff(b, b.copy())) == 0
    # Same structure, other impairments: only qdisc steps, at most one per end.
    if a.link_ids():
        steps = list(diff(a, replace_netem_only(a, b)))
        assert all(step.op.startswith("qdisc.") for step in steps), steps
        keys = [(step.ns, step.name) for step in steps]
        assert len(keys) == len(set(keys))


def replace_netem_only(a: Topology, b: Topology) -> Topology:
    """`a` with `b`'s impairments where the two have the same links."""
    out = a.copy()
    for lid, link in a.links():
        if lid in b.link_ids() and len(b.link(lid).endpoints) == 2:
            other = b.link(lid)
            ends = tuple(
                replace(ep, netem=o.netem)
                for ep, o in zip(link.endpoints, other.endpoints, strict=True)
            )
            out.update_link(lid, netem=other.netem, endpoints=ends)
    return out


def test_containerlab_export_says_netem_is_not_mapped() -> None:
    from nstopo.model.containerlab import export_containerlab

    text = export_containerlab(parse_text(LAB).topology)
    notes = [line for line in text.splitlines() if line.startswith("# Not mapped:")]
    assert notes == [
        "# Not mapped: a:eth2: netem delay 20ms 2ms loss 1% rate 10mbit (containerlab has no "
        "impairments in its file; after deploy: containerlab tools netem set -n clab-lab-a "
        "-i eth2)",
        "# Not mapped: b:eth1: netem delay 20ms 2ms loss 1% rate 10mbit (containerlab has no "
        "impairments in its file; after deploy: containerlab tools netem set -n clab-lab-b "
        "-i eth1)",
        "# Not mapped: a:eth1: netem delay 50ms (containerlab has no impairments in its file; "
        "after deploy: containerlab tools netem set -n clab-lab-a -i eth1)",
    ]
    assert "netem" not in text.split("name: lab", 1)[1]  # nothing in the file itself


def test_drift_compares_what_the_kernel_does_not_how_it_is_written() -> None:
    want = Netem(delay="20ms", loss="1%")
    assert n.drift(want, {"qdisc": "netem", "netem": {"delay": "20000us", "loss": "1%"}}) == []
    assert n.drift(want, {"qdisc": "noqueue", "netem": None}) == [
        "netem missing (document: 20 ms, 1% loss)"
    ]
    assert n.drift(None, {"qdisc": "netem", "netem": {"delay": "5ms"}}) == [
        "netem 5 ms (document: none)"
    ]
    assert n.drift(None, {"qdisc": "tbf", "netem": None}) == [
        "root qdisc tbf set outside nstopo (document: netem none)"
    ]
    assert n.drift(None, {"qdisc": None, "netem": None}) == []
    assert n.drift(want, {"up": True}) == []  # a helper that reports no qdiscs


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_impaired_topologies_survive_saving_and_loading(data: st.DataObject) -> None:
    topo = data.draw(impaired(data.draw(topologies())))
    loaded = parse_text(dumps(topo), "saved.yaml")
    assert [p for p in loaded.problems if p.is_error] == []
    assert [link for _, link in loaded.topology.links()] == [link for _, link in topo.links()]
    assert dumps(loaded.topology, loaded) == dumps(topo)  # and again, byte for byte
