"""Round trip properties over generated topologies (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from nstopo.model.topology import Topology
from nstopo.model.types import NetnsNode
from nstopo.model.validate import validate
from nstopo.model.yamlfile import dumps, parse_text
from strategies import topologies


@settings(max_examples=150, deadline=None)
@given(topologies())
def test_generated_topologies_are_valid_and_survive_a_round_trip(topo: Topology) -> None:
    assert [p.format() for p in validate(topo) if p.is_error] == []
    text = dumps(topo)
    again = parse_text(text)
    assert again.topology == topo
    assert dumps(again.topology, again) == text  # stable: saving again changes nothing


@settings(max_examples=100, deadline=None)
@given(topologies(), topologies(), st.data())
def test_saving_edits_into_a_loaded_file_reads_back_as_the_edit(
    first: Topology, second: Topology, data: st.DataObject
) -> None:
    loaded = parse_text(dumps(first))
    topo = loaded.topology
    # Edit: drop some links and nodes, add the other topology's nodes under new names.
    for lid in data.draw(st.lists(st.sampled_from(topo.link_ids()), unique=True)
                         if topo.link_ids() else st.just([])):  # fmt: skip
        topo.remove_link(lid)
    for name in data.draw(st.lists(st.sampled_from(topo.node_names()), unique=True, max_size=2)):
        topo.remove_node(name)
    for name, value in second.nodes():
        if isinstance(value, NetnsNode) and f"n-{name}" not in topo:
            topo.add_node(f"n-{name}", value)
    text = dumps(topo, loaded)
    assert parse_text(text).topology == _renumbered(topo)


def _renumbered(topo: Topology) -> Topology:
    """Link ids are positions in the file: a reloaded file numbers them anew."""
    twin = Topology(topo.name, topo.subnet)
    for name, value in topo.nodes():
        twin.add_node(name, value)
    for index, (_, link) in enumerate(topo.links()):
        twin.add_link(link, f"link-{index}")
    return twin
