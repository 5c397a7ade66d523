"""Where a running lab relies on forwarding: which nodes route for which others, what
the host routes for it and which of its bridges live in the host namespace (the
doctor's view of a topology; its rules are model/doctor.py)."""

from __future__ import annotations

import ipaddress
from collections import defaultdict

from .doctor import LabFacts, Namespace
from .placement import namespace_of_node
from .reach import interfaces_in
from .topology import Topology
from .types import BridgeNode, HostNode, NetnsNode, TapNode

HOST = "host"  # the host's key among routers, whatever its node is called


def _owner(topology: Topology) -> dict[ipaddress.IPv4Address | ipaddress.IPv6Address, str]:
    """Address -> the namespace node (or HOST) whose interface holds it."""
    owners = {}
    namespaces = {namespace_of_node(topology.get_node, n) for n, _ in topology.nodes()}
    for ns in namespaces:
        for _, address in interfaces_in(topology, ns):
            owners[address.ip] = HOST if ns is None else ns
    return owners


def _routers(topology: Topology) -> tuple[dict[str, set[str]], set[str]]:
    """Router -> the nodes whose routes go via it (HOST for the host); and the routers
    some route reaches over IPv6."""
    owners = _owner(topology)
    users: dict[str, set[str]] = defaultdict(set)
    v6: set[str] = set()
    for name, node in topology.nodes():
        if not isinstance(node, NetnsNode | HostNode):
            continue
        me = HOST if isinstance(node, HostNode) else name
        for route in node.routes:
            if route.via is None:
                continue
            try:
                via = ipaddress.ip_address(route.via)
            except ValueError:
                continue
            router = owners.get(via)
            if router is not None and router != me:
                users[router].add(me)
                if via.version == 6:
                    v6.add(router)
    for name, node in topology.nodes():  # nat sources send through their masquerader
        if isinstance(node, NetnsNode | HostNode) and node.nat:
            me = HOST if isinstance(node, HostNode) else name
            for rule in node.nat:
                try:
                    network = ipaddress.ip_network(rule.source, strict=False)
                except ValueError:
                    continue
                for address, owner in owners.items():
                    if address in network and owner != me:
                        users[me].add(owner)
    return users, v6


def lab_facts(topology: Topology, sysctls: dict[str, Namespace]) -> LabFacts:
    """`sysctls`: each netns node's, as the helper read them."""
    users, v6 = _routers(topology)
    lookup = topology.get_node
    host_bridges: dict[str, tuple[str, ...]] = {}
    for name, node in topology.nodes():
        if isinstance(node, BridgeNode) and namespace_of_node(lookup, name) is None:
            on = set(topology.neighbors(name))
            on |= {t for t, n in topology.nodes() if isinstance(n, TapNode) and n.bridge == name}
            host_bridges[name] = tuple(sorted(on - {name}))
    host_routed: dict[str, set[str]] = defaultdict(set)
    host_users = users.get(HOST, set())
    if host_users:
        own = _owner(topology)
        host_ifaces = list(interfaces_in(topology, None))
        for address, owner in own.items():
            if owner not in host_users:
                continue
            for iface, net in host_ifaces:
                if address in net.network:
                    host_routed[iface].add(owner)
    return LabFacts(
        lab=topology.name,
        host_bridges=host_bridges,
        host_routed={k: tuple(sorted(v)) for k, v in host_routed.items()},
        host_forwards_v6=HOST in v6,
        routers={k: tuple(sorted(v)) for k, v in users.items() if k != HOST},
        routers_v6=frozenset(v6 - {HOST}),
        nodes=sysctls,
    )
