"""Which address of a target node a source node can reach, and why (for ping by name)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from .placement import namespace_of_node
from .topology import Topology
from .types import BridgeNode, HostNode, NetnsNode, TapNode, TunNode

Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


@dataclass(frozen=True)
class Choice:
    address: str  # the IP to ping
    reason: str  # why this one, in words


class NoAddress(ValueError):
    pass


def interfaces_in(topology: Topology, ns: str | None) -> Iterator[tuple[str, Interface]]:
    """(interface name, address) of every addressed interface the lab puts in `ns`."""
    lookup = topology.get_node
    for name, node in topology.nodes():
        if (
            isinstance(node, BridgeNode | TapNode | TunNode)
            and namespace_of_node(lookup, name) == ns
        ):
            for text in node.addresses:
                yield name, ipaddress.ip_interface(text)
    for _, link in topology.links():
        for ep in link.endpoints:
            if namespace_of_node(lookup, ep.node) == ns:
                for text in ep.addresses:
                    yield ep.interface, ipaddress.ip_interface(text)


def interface_names(topology: Topology, ns: str | None) -> set[str]:
    """Every interface the lab puts in `ns` (addressed or not), `lo` of a namespace too."""
    lookup = topology.get_node
    names = {"lo"} if ns is not None else set()
    for name, node in topology.nodes():
        if (
            isinstance(node, BridgeNode | TapNode | TunNode)
            and namespace_of_node(lookup, name) == ns
        ):
            names.add(name)
    for _, link in topology.links():
        names.update(
            ep.interface for ep in link.endpoints if namespace_of_node(lookup, ep.node) == ns
        )
    return names


def addresses_of(topology: Topology, node: str) -> list[tuple[str, Interface]]:
    """The addresses that belong to a node: a namespace's (or the host's) interfaces,
    or a bridge/tap/tun's own."""
    value = topology.node(node)
    if isinstance(value, NetnsNode | HostNode):
        return list(interfaces_in(topology, namespace_of_node(topology.get_node, node)))
    return [(node, ipaddress.ip_interface(a)) for a in value.addresses]


def node_holding(topology: Topology, target: str) -> str:
    """The node that holds an address given as a ping's target (fe80::1%eth0 too), or
    the target itself when it names a node or nothing holds it."""
    if target in topology:
        return target
    try:
        wanted = ipaddress.ip_address(target.split("%")[0])
    except ValueError:
        return target
    for name in topology.node_names():
        try:
            if any(a.ip == wanted for _, a in addresses_of(topology, name)):
                return name
        except ValueError:  # an address the editor still shows as invalid
            continue
    return target


def choose_target(topology: Topology, source: str, target: str) -> Choice:
    """The target's address that `source` can reach: same subnet first, then one a
    route of the source covers."""
    candidates = addresses_of(topology, target)
    if not candidates:
        raise NoAddress(
            f'node "{target}" has no address to ping; give one of its interfaces an address'
        )
    source_ns = namespace_of_node(topology.get_node, source)
    mine = list(interfaces_in(topology, source_ns))
    for _, candidate in candidates:
        for iface, own in mine:
            if candidate.ip in own.network and candidate.ip != own.ip:
                return Choice(
                    str(candidate.ip), f"{candidate.ip} is on {iface}'s subnet {own.network}"
                )
    source_node = topology.node(source)
    routes = source_node.routes if isinstance(source_node, NetnsNode | HostNode) else ()
    for _, candidate in candidates:
        for route in routes:
            covered = route.to == "default" or candidate.ip in ipaddress.ip_network(route.to)
            family = ipaddress.ip_address(route.via).version if route.via else None
            if covered and family in (None, candidate.version):
                way = f"via {route.via}" if route.via else f"dev {route.dev}"
                return Choice(
                    str(candidate.ip),
                    f"{candidate.ip} is reached through the route to {route.to} {way}",
                )
    first = candidates[0][1]
    return Choice(
        str(first.ip),
        f"{first.ip} is {target}'s first address; {source} has no "
        "subnet or route towards any of them",
    )
