from __future__ import annotations

import pytest
from nstopo.model.topology import ChangeSet, Topology, TopologyError, namespace_of
from nstopo.model.types import (
    BridgeNode,
    Endpoint,
    HostNode,
    Link,
    NetnsNode,
    TapNode,
    new_node,
)


def veth(a: str, ai: str, b: str, bi: str) -> Link:
    return Link((Endpoint(a, ai), Endpoint(b, bi)))


@pytest.fixture
def topo() -> Topology:
    t = Topology("t")
    t.add_node("hub", NetnsNode())
    t.add_node("br0", BridgeNode(namespace="hub"))
    t.add_node("a", NetnsNode())
    t.add_link(veth("a", "eth0", "br0", "p-a"), "l1")
    return t


def test_two_links_between_the_same_nodes_are_legal(topo: Topology) -> None:
    topo.add_link(veth("a", "eth1", "br0", "p-a2"), "l2")
    assert topo.link_ids_of("a") == ["l1", "l2"]
    assert topo.neighbors("a") == ["br0"]


def test_observers_hear_every_change_and_can_stop(topo: Topology) -> None:
    heard: list[ChangeSet] = []
    stop = topo.observe(heard.append)
    topo.update_node("a", loopback="down")
    topo.update_link("l1", mtu=1400)
    topo.set_node("a", topo.node("a"))  # same value: no event
    stop()
    topo.add_node("b", NetnsNode())
    assert [[c.kind for c in changes] for changes in heard] == [["node-changed"], ["link-changed"]]
    assert heard[0].changes[0].fields == {"loopback"} and not heard[0].positions_only


def test_a_batch_is_one_change_set_in_order_even_when_nested(topo: Topology) -> None:
    heard: list[ChangeSet] = []
    topo.observe(heard.append)
    with topo.batch():
        topo.update_node("a", position=(1.0, 2.0))
        with topo.batch():
            topo.update_node("hub", position=(3.0, 4.0))
        assert heard == []  # nothing reaches observers before the outer batch ends
    assert len(heard) == 1 and heard[0].keys("node-changed") == ["a", "hub"]
    assert heard[0].positions_only
    with pytest.raises(TopologyError), topo.batch():
        topo.remove_link("l1")
        topo.add_node("a", NetnsNode())  # fails: what was done before is still heard
    assert [c.kind for c in heard[1]] == ["link-removed"]
    with topo.batch():
        pass
    assert len(heard) == 2  # an empty batch says nothing


def test_a_node_keeps_its_identity_through_renames_and_copies(topo: Topology) -> None:
    uid = topo.node_uid("a")
    topo.rename_node("a", "z")
    assert topo.node_uid("z") == uid and topo.copy().node_uid("z") == uid
    topo.remove_node("z")
    topo.add_node("z", NetnsNode())
    assert topo.node_uid("z") != uid  # a new node, even under the old name
    topo.remove_node("z")
    topo.add_node("z", NetnsNode(), uid=uid)  # undo of a delete gives it back
    assert topo.node_uid("z") == uid


def test_removing_a_node_removes_and_returns_its_links(topo: Topology) -> None:
    removed = topo.remove_node("a")
    assert [lid for lid, _ in removed] == ["l1"]
    assert topo.link_ids() == []
    assert "a" not in topo


def test_rename_updates_link_ends_and_references(topo: Topology) -> None:
    topo.add_node("tap0", TapNode(namespace="hub", bridge="br0"))
    topo.rename_node("hub", "core")
    topo.rename_node("br0", "sw")
    assert topo.node("sw") == BridgeNode(namespace="core")
    assert topo.node("tap0") == TapNode(namespace="core", bridge="sw")
    assert topo.link("l1").endpoints[1] == Endpoint("sw", "p-a")
    assert topo.node_names() == ["core", "sw", "a", "tap0"]


def test_links_need_existing_nodes_and_unique_names(topo: Topology) -> None:
    with pytest.raises(TopologyError, match="missing node"):
        topo.add_link(veth("a", "eth1", "nowhere", "x"))
    with pytest.raises(TopologyError, match="already exists"):
        topo.add_node("a", NetnsNode())


def test_moving_a_link_end_to_another_node(topo: Topology) -> None:
    topo.add_node("b", NetnsNode())
    topo.set_link("l1", veth("a", "eth0", "b", "eth0"))
    assert topo.link_ids_of("br0") == []
    assert topo.link_ids_of("b") == ["l1"]


def test_namespace_of_each_kind(topo: Topology) -> None:
    topo.add_node("host", HostNode())
    topo.add_node("br1", BridgeNode())
    assert namespace_of(topo, "a") == "a"
    assert namespace_of(topo, "br0") == "hub"
    assert namespace_of(topo, "br1") is None
    assert namespace_of(topo, "host") is None


def test_copy_is_equal_and_independent(topo: Topology) -> None:
    twin = topo.copy()
    assert twin == topo
    twin.update_node("a", loopback="down")
    assert twin != topo


def test_new_node_gives_defaults_per_kind() -> None:
    assert new_node("bridge", namespace="hub") == BridgeNode(namespace="hub")
    assert new_node("netns").loopback == "up"


def test_endpoints_on_and_graph_view(topo: Topology) -> None:
    assert list(topo.endpoints_on("br0")) == [("l1", 1, Endpoint("br0", "p-a"))]
    view = topo.graph_view()
    assert sorted(view.nodes) == ["a", "br0", "hub"]
    assert view.number_of_edges() == 1


def test_reinserting_at_an_index_restores_the_exact_order(topo: Topology) -> None:
    topo.add_link(veth("a", "eth1", "br0", "p-a2"), "l2")
    before = topo.copy()
    index, value = topo.node_index("br0"), topo.node("br0")
    positions = {lid: topo.link_index(lid) for lid in topo.link_ids_of("br0")}
    removed = [(positions[lid], lid, link) for lid, link in topo.remove_node("br0")]
    assert topo != before
    topo.add_node("br0", value, index)
    for position, lid, link in sorted(removed):
        topo.add_link(link, lid, position)
    assert topo == before
    assert topo.node_names() == ["hub", "br0", "a"] and topo.link_ids() == ["l1", "l2"]


def test_restoring_removed_nodes_puts_each_back_in_its_place_as_itself(topo: Topology) -> None:
    topo.add_node("b", NetnsNode())
    before = topo.copy()
    gone = [(topo.node_index(n), n, topo.node(n), topo.node_uid(n)) for n in ("hub", "b")]
    links = [(topo.link_index(lid), lid, topo.link(lid)) for lid in topo.link_ids()]
    for _, name, _, _ in gone:
        topo.remove_node(name)
    heard: list[ChangeSet] = []
    topo.observe(heard.append)
    with topo.batch():
        topo.restore_nodes(gone)
        for index, lid, link in links:
            if lid not in topo.link_ids():
                topo.add_link(link, lid, index)
    assert topo == before and topo.node_names() == ["hub", "br0", "a", "b"]
    assert [topo.node_uid(n) for n in ("hub", "b")] == [uid for *_, uid in gone]
    assert len(heard) == 1 and heard[0].keys("node-added") == ["hub", "b"]
    with pytest.raises(TopologyError, match="already exists"):
        topo.restore_nodes(gone)
