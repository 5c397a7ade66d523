from __future__ import annotations

import pytest
from nstopo.model.edit import IllegalLink, new_link
from nstopo.model.topology import Topology
from nstopo.model.types import BridgeNode, HostNode, NetnsNode, TapNode
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
