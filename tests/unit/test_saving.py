"""Saving is a pure function of (topology, loaded file): any edits, interleaved with any
number of text()/save() calls, reload as the edited lab, keep the comments of what was
not removed, and mean the same to YAML 1.1 readers (PyYAML) as to nstopo."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nstopo.model.containerlab import export_containerlab
from nstopo.model.edit import IllegalLink, new_link
from nstopo.model.topology import Topology
from nstopo.model.types import BridgeNode, Endpoint, Link, NetnsNode, replace
from nstopo.model.yamlfile import dumps, load, parse_text, save
from nstopo.resources import EXAMPLES
from ruamel.yaml import YAML

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


def renumbered(topo: Topology) -> Topology:
    """Link ids are positions in the file: a reloaded file numbers them anew."""
    twin = Topology(topo.name, topo.subnet)
    for name, value in topo.nodes():
        twin.add_node(name, value)
    for index, (_, link) in enumerate(topo.links()):
        twin.add_link(link, f"link-{index}")
    return twin


def same_meaning_to_yaml_1_1(text: str) -> None:
    """PyYAML (YAML 1.1) reads the same data as nstopo's YAML 1.2 reader."""
    assert yaml.safe_load(text) == YAML(typ="safe", pure=True).load(text)


def test_the_issue_sequence_saves_after_the_text_was_taken(tmp_path: Path) -> None:
    """Remove link 0, take the text (autosave, the commands panel), then save: the save
    used to raise IndexError from _merge_links and write nothing."""
    loaded = load(EXAMPLES / "container-bridge.yaml")
    topo = loaded.topology
    untouched = loaded.text
    topo.remove_link(topo.link_ids()[0])
    first = dumps(topo, loaded)
    assert dumps(topo, loaded) == first  # the base was not changed by the first call
    target = tmp_path / "container-bridge.yaml"
    again = save(topo, target, loaded)
    assert target.read_text() == first
    assert parse_text(first).topology == renumbered(topo)
    assert loaded.text == untouched and dumps(loaded.original, loaded) == untouched
    # The returned base is the next save's: more edits, more saves.
    topo.remove_link(topo.link_ids()[0])
    topo.update_node("c1", position=(0.0, 0.0))
    third = save(topo, target, again)
    assert load(target).topology == renumbered(topo)
    assert save(topo, target, third).text == target.read_text()
    assert "# the containers' gateway" in target.read_text()


def test_a_renamed_node_keeps_its_place_and_its_comments() -> None:
    loaded = load(EXAMPLES / "container-bridge.yaml")
    topo = loaded.topology
    topo.rename_node("cbr0", "docker0")
    text = dumps(topo, loaded)
    nodes = list(parse_text(text).topology.node_names())
    assert nodes == ["router", "docker0", "c1", "c2", "far", "internet"]
    assert "addresses: [10.80.1.1/24]             # the containers' gateway" in text
    assert "- docker0:veth-c1" in text or '"docker0:veth-c1"' in text
    # Rename it back: the file is the original again, byte for byte.
    topo.rename_node("docker0", "cbr0")
    assert dumps(topo, loaded) == loaded.text


def test_a_rename_into_a_removed_nodes_name_keeps_the_renamed_ones_entry() -> None:
    loaded = load(EXAMPLES / "container-bridge.yaml")
    topo = loaded.topology
    topo.remove_node("c1")
    topo.rename_node("c2", "c1")  # c2's entry, under c1's old name
    text = dumps(topo, loaded)
    again = parse_text(text).topology
    assert again.node_names() == ["router", "cbr0", "c1", "far", "internet"]
    assert again == renumbered(topo)


def test_yaml_1_1_words_and_mac_addresses_are_written_quoted() -> None:
    topo = Topology("on", "10.0.0.0/16")
    for name in ("on", "off", "no", "yes", "y", "null", "123", "1.5"):
        topo.add_node(name, NetnsNode())
    topo.add_node("br0", BridgeNode(namespace="on", mac="52:54:00:12:34:56"))
    topo.add_link(Link((Endpoint("on", "eth0", mac="52:54:00:12:34:57"), Endpoint("br0", "p"))))
    text = dumps(topo)
    assert '"on":' in text and 'mac: "52:54:00:12:34:56"' in text
    data = yaml.safe_load(text)
    assert set(data["nodes"]) == {"on", "off", "no", "yes", "y", "null", "123", "1.5", "br0"}
    assert data["nodes"]["br0"]["mac"] == "52:54:00:12:34:56"
    same_meaning_to_yaml_1_1(text)
    assert parse_text(text).topology == topo


def test_every_example_means_the_same_to_yaml_1_1_readers(example_file: Path) -> None:
    same_meaning_to_yaml_1_1(example_file.read_text())
    loaded = load(example_file)
    same_meaning_to_yaml_1_1(dumps(loaded.topology))  # a fresh save
    same_meaning_to_yaml_1_1(export_containerlab(loaded.topology))  # the other YAML written


# -- random edit sequences -------------------------------------------------------------------


def with_node_comments(text: str) -> str:
    """The example with an end-of-line comment naming each node on its kind line."""
    out, node, in_nodes = [], None, False
    for line in text.splitlines():
        if re.match(r"^\S", line):
            in_nodes = line.startswith("nodes:")
        found = re.match(r"^  ([^\s#][^:]*):\s*$", line) if in_nodes else None
        if found:
            node = found.group(1)
        if in_nodes and node and re.match(r"^    kind: \S+$", line):
            line += f"  # about-{node}"
        out.append(line)
    return "\n".join(out) + "\n"


EDITS = st.lists(
    st.tuples(
        st.sampled_from(
            ["move", "edit", "rename", "remove", "add", "link", "unlink", "mtu", "text", "save"]
        ),
        st.integers(0, 1_000),
        st.sampled_from(["on", "off", "yes", "no", "x1", "x2", "new"]),
    ),
    max_size=25,
)


def apply(topo: Topology, edit: str, pick: int, word: str) -> None:
    names, links = topo.node_names(), topo.link_ids()
    name = names[pick % len(names)] if names else None
    if edit == "move" and name:
        topo.update_node(name, position=(float(pick), float(-pick)))
    elif edit == "edit" and name:
        value = topo.node(name)
        if isinstance(value, NetnsNode):
            topo.update_node(name, loopback="down" if value.loopback == "up" else "up")
        elif isinstance(value, BridgeNode):
            topo.update_node(name, addresses=(f"10.99.{pick % 250}.1/24",))
    elif edit == "rename" and name and word not in topo:
        topo.rename_node(name, word)
    elif edit == "remove" and name:
        topo.remove_node(name)
    elif edit == "add" and word not in topo:
        topo.add_node(word, NetnsNode(position=(1.0, 2.0)))
    elif edit == "link" and len(names) >= 2:
        a, b = names[pick % len(names)], names[(pick // 7 + 1) % len(names)]
        with contextlib.suppress(IllegalLink):
            topo.add_link(new_link(topo, a, b))
    elif edit == "unlink" and links:
        topo.remove_link(links[pick % len(links)])
    elif edit == "mtu" and links:
        lid = links[pick % len(links)]
        topo.set_link(lid, replace(topo.link(lid), mtu=1280 + pick))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(example=st.sampled_from(EXAMPLE_FILES), edits=EDITS)
def test_any_edits_with_text_and_saves_between_them_save_and_reload(
    tmp_path: Path, example: Path, edits: list[tuple[str, int, str]]
) -> None:
    target = tmp_path / "lab.yaml"
    target.write_text(with_node_comments(example.read_text()))
    base = load(target)
    topo = base.topology
    comments = {topo.node_uid(n): f"# about-{n}" for n in topo.node_names()}
    comments = {uid: c for uid, c in comments.items() if c in base.text}
    assert len(comments) >= len(topo) - 1  # the marks are in the file to be kept
    for edit, pick, word in edits:
        if edit == "text":
            before = base.text
            text = dumps(topo, base)
            assert dumps(topo, base) == text and base.text == before  # pure
            same_meaning_to_yaml_1_1(text)
        elif edit == "save":
            base = save(topo, target, base)
            assert target.read_text() == base.text
        else:
            apply(topo, edit, pick, word)
    base = save(topo, target, base)
    written = target.read_text()
    same_meaning_to_yaml_1_1(written)
    assert load(target).topology == renumbered(topo)
    # A node that was not removed keeps its comment, renamed and edited ones too.
    for name in topo.node_names():
        kept = comments.get(topo.node_uid(name))
        if kept is not None:
            assert kept in written, f"{kept} lost ({name})"
