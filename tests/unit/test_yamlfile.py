from __future__ import annotations

from pathlib import Path

from nstopo.model.schema import json_schema_text
from nstopo.model.types import Endpoint, NetnsNode, Route
from nstopo.model.yamlfile import dumps, load, parse_text, save
from nstopo.resources import SCHEMA_FILE

HAND_WRITTEN = """\
# My lab. Comments must survive.
nstopo: 1
name: demo   # the lab's name
nodes:
  a:
    kind: netns      # first namespace
    loopback: up     # explicit default stays
  br0:
    kind: bridge
    addresses: [10.0.0.1/24]
links:
  # the only link
  - endpoints: ["a:eth0", "br0:p-a"]
    mtu: 1400
"""


def test_examples_round_trip_byte_for_byte(example_file: Path) -> None:
    loaded = load(example_file)
    assert dumps(loaded.topology, loaded) == example_file.read_text()


def test_load_save_load_is_equal(example_file: Path, tmp_path: Path) -> None:
    loaded = load(example_file)
    saved = save(loaded.topology, tmp_path / "copy.yaml")  # without a base: fresh text
    assert saved.topology == loaded.topology


def test_edits_keep_comments_and_touch_only_what_changed() -> None:
    loaded = parse_text(HAND_WRITTEN, "demo.yaml")
    topo = loaded.topology
    topo.update_node("a", routes=(Route("default", via="10.0.0.1"),))
    topo.update_node("br0", addresses=("10.0.0.1/24", "fd00::1/64"))
    topo.add_node("b", NetnsNode(position=(10.0, 20.5)))
    text = dumps(topo, loaded)
    for kept in ("# My lab.", "# the lab's name", "# first namespace", "# the only link",
                 "loopback: up     # explicit default stays", '["a:eth0", "br0:p-a"]'):  # fmt: skip
        assert kept in text
    assert "routes:\n      - {to: default, via: 10.0.0.1}" in text
    assert "addresses: [10.0.0.1/24, fd00::1/64]" in text
    assert "position: [10, 20.5]" in text
    assert parse_text(text).topology == topo


def test_removing_a_link_and_a_node_removes_their_text() -> None:
    loaded = parse_text(HAND_WRITTEN)
    topo = loaded.topology
    topo.remove_node("a")
    text = dumps(topo, loaded)
    assert "links" not in text and "a:" not in text.split("nodes:")[1]
    assert parse_text(text).topology == topo


def test_endpoint_long_form_is_kept_when_editing_it() -> None:
    text = HAND_WRITTEN.replace('["a:eth0", "br0:p-a"]', '\n      - {node: a, interface: eth0}'
                                '\n      - br0:p-a')  # fmt: skip
    loaded = parse_text(text)
    lid = loaded.topology.link_ids()[0]
    link = loaded.topology.link(lid)
    new_end = Endpoint("a", "eth0", ("10.0.0.2/24",))
    loaded.topology.update_link(lid, endpoints=(new_end, link.endpoints[1]))
    out = dumps(loaded.topology, loaded)
    assert "- {node: a, interface: eth0, addresses: [10.0.0.2/24]}" in out
    assert "- br0:p-a" in out


def test_short_and_long_endpoint_forms_mean_the_same() -> None:
    short = parse_text(HAND_WRITTEN).topology
    long = parse_text(HAND_WRITTEN.replace(
        '["a:eth0", "br0:p-a"]',
        "[{node: a, interface: eth0}, {node: br0, interface: p-a}]")).topology  # fmt: skip
    assert short == long


def test_shipped_json_schema_is_generated_from_the_model() -> None:
    assert SCHEMA_FILE.read_text() == json_schema_text(), (
        "resources/schema is stale: run python -m nstopo.model.schema --write"
    )


def test_json_schema_accepts_the_examples_and_rejects_unknown_keys(example_file: Path) -> None:
    import json

    import jsonschema
    from ruamel.yaml import YAML

    schema = json.loads(SCHEMA_FILE.read_text())
    data = YAML(typ="safe").load(example_file.read_text())
    jsonschema.validate(data, schema)
    data["nodes"][next(iter(data["nodes"]))]["colour"] = "red"
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        assert "colour" in exc.message
    else:
        raise AssertionError("an unknown key passed the JSON Schema")


def test_written_short_endpoints_are_quoted_for_yaml_1_1_readers() -> None:
    from nstopo.model.topology import Topology
    from nstopo.model.types import Link

    topo = Topology("t")
    topo.add_node("a", NetnsNode())
    topo.add_node("b", NetnsNode())
    topo.add_link(Link((Endpoint("a", "eth0"), Endpoint("b", "eth0"))))
    text = dumps(topo)
    assert '- endpoints: ["a:eth0", "b:eth0"]' in text
    assert parse_text(text).topology == topo
