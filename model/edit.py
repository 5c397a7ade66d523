"""Editing policy the editor calls: the name of a new node, whether it may be added
(one host), names and addresses for a new link and whether it may be drawn at all, the
names pasted nodes get, and the bridge ports that follow a rename. Pure: the GUI only
shows what these decide."""

from __future__ import annotations

import ipaddress
from collections.abc import Collection

from .names import interface_name_problem
from .placement import namespace_of_node
from .reach import interface_names, interfaces_in
from .topology import Topology
from .types import BridgeNode, Endpoint, HostNode, Link, NetnsNode, Node, TapNode, TunNode, replace

NAME_STEMS = {"netns": "ns", "bridge": "br", "tap": "tap", "tun": "tun", "host": "host"}
PASTE_OFFSET = (40.0, 40.0)  # a pasted copy sits below and right of the original


class IllegalLink(ValueError):
    """Why the link cannot be drawn, in one sentence."""


def new_node_name(topology: Topology, kind: str, taken: Collection[str] = ()) -> str:
    """ns1, ns2, ...; br0, tap0, tun0 like the kernel; the host is "host". `taken`:
    namespace names other running labs hold (a namespace name is the machine's, so a
    new ns1 beside another lab's ns1 could never be deployed)."""
    stem = NAME_STEMS[kind]
    if kind == "host" and stem not in topology:
        return stem
    i = 1 if kind in ("netns", "host") else 0
    while f"{stem}{i}" in topology or (kind == "netns" and f"{stem}{i}" in taken):
        i += 1
    return f"{stem}{i}"


def node_problem(topology: Topology, kind: str) -> str | None:
    """Why a node of this kind cannot be added (None: it can)."""
    if kind == "host" and any(isinstance(v, HostNode) for _, v in topology.nodes()):
        return "there is one host namespace, and it is already drawn"
    return None


def pasted(
    topology: Topology, part: Topology, offset: tuple[float, float] = PASTE_OFFSET
) -> tuple[list[tuple[str, Node]], list[Link]]:
    """The nodes and links of `part` as they are added to `topology`: each node under
    its own name, or name-2, name-3... when that is taken; references between them
    (link ends, a device's namespace or bridge) follow; positions shift by `offset`.
    A second host is not pasted (there is one), nor are links to it."""
    names: dict[str, str] = {}
    has_host = any(isinstance(v, HostNode) for _, v in topology.nodes())
    for name, value in part.nodes():
        if isinstance(value, HostNode) and has_host:
            continue
        fresh, i = name, 2
        while fresh in topology or fresh in names.values():
            fresh, i = f"{name}-{i}", i + 1
        names[name] = fresh
    nodes = []
    for name, value in part.nodes():
        if name not in names:
            continue
        x, y = value.position or (0.0, 0.0)
        changes: dict[str, object] = {"position": (x + offset[0], y + offset[1])}
        for ref in ("namespace", "bridge"):
            target = getattr(value, ref, None)
            if target is not None:
                # A reference to a node outside the copy keeps pointing at it if it exists.
                changes[ref] = names.get(target, target if target in topology else None)
        nodes.append((names[name], replace(value, **changes)))
    links = [
        replace(link, endpoints=tuple(replace(ep, node=names[ep.node]) for ep in link.endpoints))
        for _, link in part.links()
        if all(ep.node in names for ep in link.endpoints)
    ]
    return nodes, links


def link_problem(topology: Topology, a: str, b: str) -> str | None:
    for name in (a, b):
        node = topology.node(name)
        if isinstance(node, TapNode | TunNode):
            return (
                f"a veth cannot end on {node.kind} {name}; attach a tap to a bridge "
                "with its bridge setting instead"
            )
    if a == b and isinstance(topology.node(a), BridgeNode):
        return f"a veth from {a} back to {a} would loop the bridge onto itself"
    return None


def next_interface(topology: Topology, ns: str | None, stem: str, taken: set[str]) -> str:
    """`eth0`, `eth1`, ... (or stem0...) not yet used in namespace `ns`."""
    used = interface_names(topology, ns) | taken
    for i in range(10_000):
        candidate = f"{stem}{i}"
        if candidate not in used:
            return candidate
    raise IllegalLink(f"no free interface name like {stem}N in that namespace")


def port_name(topology: Topology, bridge: str, other: str, taken: set[str]) -> str:
    """A readable bridge port: `p-<other node>` when it fits and is free."""
    ns = namespace_of_node(topology.get_node, bridge)
    used = interface_names(topology, ns) | taken
    readable = f"p-{other}"
    if interface_name_problem(readable) is None and readable not in used:
        return readable
    return next_interface(topology, ns, f"{bridge[:10]}p", taken)


def ports_after_rename(topology: Topology, old: str, new: str) -> dict[str, Link]:
    """After node `old` was renamed `new`: the bridge ports of its links still named for
    it (`p-<old>`, as port_name named them) take the new name, where that fits and is
    free in the bridge's namespace. The links to set, by id (empty: nothing follows)."""
    wanted = f"p-{new}"
    if interface_name_problem(wanted) is not None:
        return {}
    changed: dict[str, Link] = {}
    taken: dict[str | None, set[str]] = {}
    for lid in topology.link_ids_of(new):
        link = topology.link(lid)
        ends = list(link.endpoints)
        for i, (end, other) in enumerate(zip(ends, reversed(ends), strict=True)):
            if end.interface != f"p-{old}" or other.node != new or end.node == new:
                continue
            if not isinstance(topology.node(end.node), BridgeNode):
                continue
            ns = namespace_of_node(topology.get_node, end.node)
            used = taken.setdefault(ns, interface_names(topology, ns))
            if wanted in used:
                continue
            used.add(wanted)
            ends[i] = replace(end, interface=wanted)
        if ends != list(link.endpoints):
            changed[lid] = replace(link, endpoints=tuple(ends))
    return changed


def new_link(topology: Topology, a: str, b: str) -> Link:
    """The veth pair drawn from node a to node b, with names and (when they can be
    chosen) addresses; raises IllegalLink with the reason otherwise."""
    problem = link_problem(topology, a, b)
    if problem:
        raise IllegalLink(problem)
    taken: dict[str | None, set[str]] = {}
    ends = []
    for this, other in ((a, b), (b, a)):
        ns = namespace_of_node(topology.get_node, this)
        used = taken.setdefault(ns, set())
        node = topology.node(this)
        name = (
            port_name(topology, this, other, used)
            if isinstance(node, BridgeNode)
            else next_interface(topology, ns, "veth" if isinstance(node, HostNode) else "eth", used)
        )
        used.add(name)
        ends.append(Endpoint(this, name))
    first, second = _addressed(topology, ends[0], ends[1])
    return Link((first, second))


def _addressed(topology: Topology, a: Endpoint, b: Endpoint) -> list[Endpoint]:
    """Addresses for the two ends: a namespace end facing a bridge gets the next free
    one in the bridge's segment (see _segment); two namespace ends get a fresh /24 from the lab's
    pool (its `subnet`). Bridge ports get none (the seed's pitfall)."""
    nodes = [topology.node(a.node), topology.node(b.node)]
    bridged = [isinstance(n, BridgeNode) for n in nodes]
    if all(bridged):
        return [a, b]
    if any(bridged):
        bridge_end, far = (a, b) if bridged[0] else (b, a)
        bridge = topology.node(bridge_end.node)
        assert isinstance(bridge, BridgeNode)
        net = _segment(topology, bridge_end.node, bridge)
        if net is None:
            return [a, b]
        free = _free_hosts(topology, net, 1)
        if not free:
            return [a, b]
        addressed = Endpoint(far.node, far.interface, (f"{free[0]}/{net.prefixlen}",))
        return [addressed, b] if far is a else [a, addressed]
    if topology.subnet is None or not all(isinstance(n, NetnsNode | HostNode) for n in nodes):
        return [a, b]
    net = _free_subnet(topology, ipaddress.ip_network(topology.subnet))
    if net is None:
        return [a, b]
    hosts = list(net.hosts())[:2]
    return [
        Endpoint(a.node, a.interface, (f"{hosts[0]}/{net.prefixlen}",)),
        Endpoint(b.node, b.interface, (f"{hosts[1]}/{net.prefixlen}",)),
    ]


def _segment(topology: Topology, name: str, bridge: BridgeNode):
    """The subnet of a bridge's segment: its own address's, else that of a namespace
    already on it, else a fresh one from the lab's pool (None: no pool)."""
    if bridge.addresses:
        return ipaddress.ip_interface(bridge.addresses[0]).network
    for _, link in topology.links():
        ends = link.endpoints
        for here, there in ((ends[0], ends[1]), (ends[1], ends[0])):
            if here.node == name and there.addresses:
                return ipaddress.ip_interface(there.addresses[0]).network
    if topology.subnet is None:
        return None
    return _free_subnet(topology, ipaddress.ip_network(topology.subnet))


def _used_ips(topology: Topology) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    used = set()
    for name, _ in topology.nodes():
        ns = namespace_of_node(topology.get_node, name)
        used.update(iface.ip for _, iface in interfaces_in(topology, ns))
    return used


def _free_hosts(topology: Topology, net, count: int) -> list:
    used = _used_ips(topology)
    out = []
    for host in net.hosts():
        if host not in used:
            out.append(host)
            if len(out) == count:
                break
    return out


def _free_subnet(topology: Topology, pool):
    """The first /24 (or /64 for IPv6) of the pool that no address of the lab uses."""
    size = 24 if pool.version == 4 else 64
    if pool.prefixlen > size:
        return pool if not (_used_ips(topology) & set(pool.hosts())) else None
    used = _used_ips(topology)
    for i, net in enumerate(pool.subnets(new_prefix=size)):
        if i > 4096:
            return None
        if not any(ip in net for ip in used):
            return net
    return None
