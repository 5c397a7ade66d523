"""How a running lab maps onto the drawing (model/live.py): pure, no kernel."""

from __future__ import annotations

from labs import star
from nstopo.model.live import (
    LinkEnd,
    NodeDevice,
    changes_since,
    describe_owner,
    drift,
    interface_owners,
    owner_of_step,
)
from nstopo.model.types import BridgeNode, Endpoint, Link, NetnsNode, replace
from nstopo.model.yamlfile import load
from nstopo.resources import EXAMPLES


def test_every_interface_belongs_to_its_link_end_or_device() -> None:
    topo = load(EXAMPLES / "bridge-fixed.yaml").topology
    owners = interface_owners(topo)
    lid = topo.link_ids()[0]
    ends = [ep.node for ep in topo.link(lid).endpoints]
    assert owners[("hub", "p0")] == LinkEnd(lid, ends.index("br0"))  # br0 lives in hub
    assert owners[("a", "eth0")] == LinkEnd(lid, ends.index("a"))
    assert owners[("hub", "br0")] == NodeDevice("br0")
    assert len(owners) == 3
    assert describe_owner(topo, owners[("a", "eth0")]) == "a:eth0"


def test_changes_since_a_deploy_ignore_positions_and_name_removals() -> None:
    deployed = star(3)
    current = star(3)
    current.set_node("s0", replace(current.node("s0"), position=(400.0, 0.0)))
    assert not changes_since(deployed, current)  # a move is not a change
    lid = current.link_ids()[1]
    link = current.link(lid)
    first = replace(link.endpoints[0], addresses=("10.100.9.9/16",))
    current.set_link(lid, replace(link, endpoints=(first, link.endpoints[1])))
    current.set_node("br0", replace(current.node("br0"), mtu=9000))
    current.add_node("new", NetnsNode())
    current.remove_node("s2")  # and its link
    changes = changes_since(deployed, current)
    assert changes.nodes == {"br0", "new"}
    assert changes.links == {lid}
    assert changes.removed == ("node s2", "link s2:eth0 ↔ br0:p2")


def test_a_failed_step_points_at_its_item() -> None:
    topo = star(2)
    lid = topo.link_ids()[1]
    s1_end = [ep.node for ep in topo.link(lid).endpoints].index("s1")
    assert owner_of_step(topo, {"op": "addr.add", "ns": "s1", "dev": "eth0"}) == LinkEnd(
        lid, s1_end
    )
    assert owner_of_step(topo, {"op": "link.set", "ns": "hub", "name": "br0"}) == NodeDevice("br0")
    assert owner_of_step(topo, {"op": "netns.add", "ns": None, "name": "s0"}) == NodeDevice("s0")
    assert owner_of_step(topo, {"op": "route.add", "ns": "s0"}) == NodeDevice("s0")
    assert owner_of_step(topo, {"op": "netns.add", "ns": None, "name": "elsewhere"}) is None


def test_drift_names_each_difference_from_the_document() -> None:
    topo = star(1)
    topo.add_node("br1", BridgeNode(namespace="hub", mtu=1400))
    topo.add_link(Link((Endpoint("hub", "x0", ("10.1.0.1/24",)), Endpoint("br1", "x1"))))
    end = interface_owners(topo)[("hub", "x0")]
    live = {"up": True, "mtu": 1500, "oper": "UP"}
    assert drift(topo, end, live, {"10.1.0.1/24", "fe80::1/64"}) == []  # link-local is the kernel's
    assert drift(topo, end, {**live, "up": False}, {"10.1.0.1/24"}) == ["admin down (document: up)"]
    assert drift(topo, end, live, {"10.1.0.9/24"}) == [
        "address 10.1.0.1/24 missing",
        "address 10.1.0.9/24 added outside nstopo",
    ]
    assert drift(topo, end, None, set()) == ["missing from the kernel"]
    bridge = interface_owners(topo)[("hub", "br1")]
    assert drift(topo, bridge, live, set()) == ["mtu 1500 (document: 1400)"]
