"""How a running lab relates to the drawing: which item an interface, a failed step or a
captured packet belongs to, what changed since the last deploy, and where the kernel
drifted from the document. Pure functions over topologies and plain dicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import netem
from .placement import NamespaceKey, namespace_of_node
from .topology import Topology
from .types import BridgeNode, Link, TapNode, TunNode, replace

InterfaceKey = tuple[NamespaceKey, str]  # (namespace or None for the host, interface name)


@dataclass(frozen=True)
class LinkEnd:
    link_id: str
    end: int  # 0 or 1: which endpoint of the link


@dataclass(frozen=True)
class NodeDevice:
    node: str  # a bridge, tap or tun: the node is the device


Owner = LinkEnd | NodeDevice


def interface_key(topology: Topology, node: str, interface: str | None = None) -> InterfaceKey:
    """The kernel interface a node's `interface` is (None: the bridge, tap or tun node
    itself), as the helper names it in its events."""
    return (namespace_of_node(topology.get_node, node), interface or node)


def interface_owners(topology: Topology) -> dict[InterfaceKey, Owner]:
    """Every kernel interface the topology makes, and the item that stands for it."""
    owners: dict[InterfaceKey, Owner] = {}
    for lid, link in topology.links():
        for end, ep in enumerate(link.endpoints):
            owners[interface_key(topology, ep.node, ep.interface)] = LinkEnd(lid, end)
    for name, node in topology.nodes():
        if isinstance(node, BridgeNode | TapNode | TunNode):
            owners[interface_key(topology, name)] = NodeDevice(name)
    return owners


def _link_key(link: Link) -> frozenset[tuple[str, str]]:
    return frozenset((ep.node, ep.interface) for ep in link.endpoints)


@dataclass(frozen=True)
class Changes:
    """What the document changed since it was deployed (positions do not count)."""

    nodes: frozenset[str]  # new or changed, by name in the document
    links: frozenset[str]  # new or changed, by link id in the document
    removed: tuple[str, ...]  # described, as they are not on the canvas any more

    def __bool__(self) -> bool:
        return bool(self.nodes or self.links or self.removed)


def changes_since(deployed: Topology, current: Topology) -> Changes:
    def placed(topology: Topology, name: str) -> object:
        return replace(topology.node(name), position=None)

    nodes = frozenset(
        name
        for name in current.node_names()
        if name not in deployed or placed(deployed, name) != placed(current, name)
    )
    before = {_link_key(link): link for _, link in deployed.links()}
    links = frozenset(lid for lid, link in current.links() if before.get(_link_key(link)) != link)
    now_nodes = set(current.node_names())
    now_links = {_link_key(link) for _, link in current.links()}
    removed = [f"node {name}" for name in deployed.node_names() if name not in now_nodes]
    removed += [
        "link " + " ↔ ".join(ep.short for ep in link.endpoints)
        for _, link in deployed.links()
        if _link_key(link) not in now_links
    ]
    return Changes(nodes, links, tuple(removed))


def describe_owner(topology: Topology, owner: Owner) -> str:
    """How a person names it: "a:eth0" for a link end, the node's name for a device."""
    if isinstance(owner, LinkEnd):
        return topology.link(owner.link_id).endpoints[owner.end].short
    return owner.node


def owner_of_step(topology: Topology, step: dict[str, Any]) -> Owner | None:
    """The item a plan step (as the helper reports it) is about, if it is on the canvas."""
    ns = step.get("ns")
    device = step.get("dev") or step.get("name")
    if step.get("op", "").startswith("netns."):
        return NodeDevice(step["name"]) if step.get("name") in topology else None
    if step.get("op", "").startswith("sysctl") and ns in topology:
        return NodeDevice(ns)
    if device is not None:
        owner = interface_owners(topology).get((ns, device))
        if owner is not None:
            return owner
    if ns is not None and ns in topology:
        return NodeDevice(ns)  # a route or address of a namespace
    return None


def drift(
    topology: Topology, owner: Owner, live: dict[str, Any] | None, addresses: set[str]
) -> list[str]:
    """How the kernel's interface differs from what the document says (empty: it
    matches). `live` is the helper's link state, None when the interface is missing."""
    if isinstance(owner, LinkEnd):
        link = topology.link(owner.link_id)
        want_up, want_mtu = link.state == "up", link.mtu
        want_addresses = set(link.endpoints[owner.end].addresses)
    else:
        node = topology.node(owner.node)
        want_up, want_mtu = node.state == "up", node.mtu
        want_addresses = set(node.addresses)
    if live is None:
        return ["missing from the kernel"]
    found = []
    if bool(live.get("up")) != want_up:
        state, wanted = ("up", "down") if live.get("up") else ("down", "up")
        found.append(f"admin {state} (document: {wanted})")
    if want_mtu is not None and live.get("mtu") != want_mtu:
        found.append(f"mtu {live.get('mtu')} (document: {want_mtu})")
    kept = {a for a in addresses if not a.startswith("fe80:")}
    found += [f"address {a} missing" for a in sorted(want_addresses - kept)]
    found += [f"address {a} added outside nstopo" for a in sorted(kept - want_addresses)]
    if isinstance(owner, LinkEnd):
        found += netem.drift(netem.effective(link.netem, link.endpoints[owner.end].netem), live)
    return found
