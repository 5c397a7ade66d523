from __future__ import annotations

import pytest
from nstopo.model.edit import (
    IllegalLink,
    new_link,
    new_node_name,
    node_problem,
    pasted,
    ports_after_rename,
)
from nstopo.model.topology import Topology
from nstopo.model.types import BridgeNode, Endpoint, HostNode, Link, NetnsNode, TapNode
from nstopo.model.validate import validate
from nstopo.model.yamlfile import load
from nstopo.resources import EXAMPLES


def test_namespace_to_namespace_takes_a_fresh_subnet_from_the_pool() -> None:
    topo = Topology("t", subnet="10.77.0.0/16")
    topo.add_node("a", NetnsNode())
    topo.add_node("b", NetnsNode())
    first = new_link(topo, "a", "b")
    assert [(e.interface, e.addresses) for e in first.endpoints] == [
        ("eth0", ("10.77.0.1/24",)),
        ("eth0", ("10.77.0.2/24",)),
    ]
    topo.add_link(first)
    second = new_link(topo, "a", "b")
    assert [(e.interface, e.addresses) for e in second.endpoints] == [
        ("eth1", ("10.77.1.1/24",)),
        ("eth1", ("10.77.1.2/24",)),
    ]
    topo.add_link(second)
    assert validate(topo) == []


def test_a_namespace_joining_an_addressed_bridge_gets_a_free_address() -> None:
    topo = load(EXAMPLES / "bridge-fixed.yaml").topology
    topo.add_node("b", NetnsNode())
    link = new_link(topo, "b", "br0")
    b_end, port = link.endpoints
    assert (b_end.interface, b_end.addresses) == ("eth0", ("10.77.0.3/24",))
    assert (port.interface, port.addresses) == ("p-b", ())  # no address on a port
    topo.add_link(link)
    assert [p for p in validate(topo) if p.is_error] == []


def test_namespaces_joining_a_bridge_without_an_address_share_one_subnet() -> None:
    topo = Topology("t", subnet="10.77.0.0/16")
    topo.add_node("br0", BridgeNode())
    for name in ("a", "b"):
        topo.add_node(name, NetnsNode())
    first = new_link(topo, "a", "br0")
    assert first.endpoints[0].addresses == ("10.77.0.1/24",)  # a fresh /24 of the pool
    assert first.endpoints[1].addresses == ()  # the port stays without (the pitfall)
    topo.add_link(first)
    second = new_link(topo, "br0", "b")  # drawn from the bridge: the same rule
    assert (second.endpoints[0].addresses, second.endpoints[1].addresses) == (
        (),
        ("10.77.0.2/24",),
    )
    topo.add_link(second)
    assert [p for p in validate(topo) if p.is_error] == []


def test_names_without_a_pool_or_address_and_host_veths() -> None:
    topo = Topology("t")
    topo.add_node("host", HostNode())
    topo.add_node("a", NetnsNode())
    link = new_link(topo, "host", "a")
    assert [(e.interface, e.addresses) for e in link.endpoints] == [("veth0", ()), ("eth0", ())]


def test_illegal_links_say_why() -> None:
    topo = Topology("t")
    topo.add_node("a", NetnsNode())
    topo.add_node("br0", BridgeNode())
    topo.add_node("tap0", TapNode())
    with pytest.raises(IllegalLink, match="cannot end on tap tap0; attach a tap to a bridge"):
        new_link(topo, "a", "tap0")
    with pytest.raises(IllegalLink, match="loop the bridge onto itself"):
        new_link(topo, "br0", "br0")


def test_new_node_names_count_like_the_kernel_and_skip_taken_ones() -> None:
    topo = Topology("t")
    assert new_node_name(topo, "netns") == "ns1"
    assert new_node_name(topo, "bridge") == "br0"
    topo.add_node("ns1", NetnsNode())
    topo.add_node("ns2", NetnsNode())
    topo.add_node("br0", BridgeNode())
    assert new_node_name(topo, "netns") == "ns3"
    assert new_node_name(topo, "bridge") == "br1"
    assert (new_node_name(topo, "tap"), new_node_name(topo, "tun")) == ("tap0", "tun0")
    assert new_node_name(topo, "host") == "host"


def test_there_is_one_host() -> None:
    topo = Topology("t")
    assert node_problem(topo, "host") is None
    topo.add_node("host", HostNode())
    assert node_problem(topo, "host") == "there is one host namespace, and it is already drawn"
    assert node_problem(topo, "netns") is None


def test_pasted_nodes_get_free_names_and_their_references_follow() -> None:
    topo = Topology("t")
    topo.add_node("hub", NetnsNode(position=(0.0, 0.0)))
    topo.add_node("hub-2", NetnsNode())
    topo.add_node("host", HostNode())
    part = Topology("t")
    part.add_node("hub", NetnsNode(position=(10.0, 20.0)))
    part.add_node("br0", BridgeNode(namespace="hub"))
    part.add_node("tap0", TapNode(namespace="hub", bridge="br0"))
    part.add_node("host", HostNode())
    part.add_node("a", NetnsNode())
    part.add_link(Link((Endpoint("a", "eth0"), Endpoint("br0", "p-a"))))
    part.add_link(Link((Endpoint("a", "eth1"), Endpoint("host", "veth0"))))
    nodes, links = pasted(topo, part)
    named = dict(nodes)
    assert list(named) == ["hub-3", "br0", "tap0", "a"]  # hub and hub-2 are taken; one host
    assert named["hub-3"].position == (50.0, 60.0)
    assert named["br0"] == BridgeNode(namespace="hub-3", position=(40.0, 40.0))
    assert (named["tap0"].namespace, named["tap0"].bridge) == ("hub-3", "br0")
    assert links == [Link((Endpoint("a", "eth0"), Endpoint("br0", "p-a")))]  # not to host
    for name, value in nodes:
        topo.add_node(name, value)
    for link in links:
        topo.add_link(link)
    assert [p for p in validate(topo) if p.is_error] == []
    again, _ = pasted(topo, part)
    assert [n for n, _ in again] == ["hub-4", "br0-2", "tap0-2", "a-2"]
    assert dict(again)["tap0-2"].bridge == "br0-2"


def test_bridge_ports_named_after_a_node_follow_its_rename() -> None:
    topo = Topology("t", "10.77.0.0/16")
    topo.add_node("hub", NetnsNode())
    topo.add_node("br0", BridgeNode(namespace="hub"))
    topo.add_node("br1", BridgeNode())  # in the host namespace
    topo.add_node("ns1", NetnsNode())
    topo.add_node("b", NetnsNode())
    for a, z in (("ns1", "br0"), ("ns1", "br1"), ("b", "br0"), ("ns1", "b")):
        topo.add_link(new_link(topo, a, z))
    assert [ep.interface for _, link in topo.links() for ep in link.endpoints] == [
        "eth0", "p-ns1", "eth1", "p-ns1", "eth0", "p-b", "eth2", "eth1",
    ]  # fmt: skip
    topo.rename_node("ns1", "a")
    following = ports_after_rename(topo, "ns1", "a")
    ids = topo.link_ids()
    assert sorted(following) == [ids[0], ids[1]]  # b's port and the plain veth stay
    assert [ep.interface for ep in following[ids[0]].endpoints] == ["eth0", "p-a"]
    assert following[ids[0]].endpoints[0] == topo.link(ids[0]).endpoints[0]  # addresses kept
    # A new name that is taken in the bridge's namespace, or too long for one, stays put.
    topo.rename_node("a", "b-2")
    topo.add_link(Link((Endpoint("hub", "p-b-2"), Endpoint("br1", "p-hub"))))
    assert list(ports_after_rename(topo, "ns1", "b-2")) == [ids[1]]  # hub has a p-b-2
    topo.rename_node("b-2", "a-very-long-nm")
    assert ports_after_rename(topo, "ns1", "a-very-long-nm") == {}  # p-a-very-long-nm: 16 bytes


def test_a_new_namespace_is_never_named_as_another_running_labs() -> None:
    topo = Topology("t")
    topo.add_node("ns1", NetnsNode())
    assert new_node_name(topo, "netns", {"ns2", "ns3", "hub"}) == "ns4"
    assert new_node_name(topo, "bridge", {"br0"}) == "br0"  # inside a namespace of ours
