"""Topologies built in code for tests and benchmarks."""

from __future__ import annotations

from nstopo.model.topology import Topology
from nstopo.model.types import BridgeNode, Endpoint, Link, NetnsNode


def star(n: int, name: str = "star") -> Topology:
    """N namespaces, each with lo up and a veth to one bridge in a hub namespace,
    one address each (the deploy benchmark's lab)."""
    topo = Topology(name)
    topo.add_node("hub", NetnsNode())
    topo.add_node("br0", BridgeNode(namespace="hub", addresses=("10.100.0.1/16",)))
    for i in range(n):
        topo.add_node(f"s{i}", NetnsNode())
        address = f"10.100.{1 + i // 250}.{1 + i % 250}/16"
        topo.add_link(Link((Endpoint(f"s{i}", "eth0", (address,)), Endpoint("br0", f"p{i}"))))
    return topo
