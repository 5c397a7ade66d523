"""Hypothesis strategies that build valid topologies of every kind."""

from __future__ import annotations

from hypothesis import strategies as st
from nstopo.model.topology import Topology, namespace_of
from nstopo.model.types import (
    BridgeNode,
    Endpoint,
    HostNode,
    Link,
    NetnsNode,
    Route,
    TapNode,
)

names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=6).filter(
    lambda n: n not in ("lo", "host")
)


@st.composite
def topologies(draw: st.DrawFn, max_nodes: int = 7) -> Topology:
    """A valid topology: unique interface names per namespace, unique addresses."""
    topo = Topology(draw(st.sampled_from(["lab", "demo-1", "x"])))
    netns = draw(st.lists(names, min_size=1, max_size=max_nodes, unique=True))
    counter = iter(range(1, 10_000))
    for name in netns:
        topo.add_node(name, NetnsNode(
            loopback=draw(st.sampled_from(["up", "down"])),
            sysctls=draw(st.sampled_from([{}, {"net.ipv4.ip_forward": 1},
                                          {"net.ipv4.conf.all.rp_filter": "0"}])),
            position=draw(st.none() | st.tuples(st.integers(-500, 500), st.integers(-500, 500))),
        ))  # fmt: skip
    if draw(st.booleans()):
        topo.add_node("host", HostNode())
    holders = list(netns)
    if draw(st.booleans()):
        home = draw(st.sampled_from([*netns, None]))
        topo.add_node("br-x", BridgeNode(namespace=home,
                                         addresses=(f"10.200.{next(counter)}.1/24",),
                                         state=draw(st.sampled_from(["up", "down"]))))  # fmt: skip
        holders.append("br-x")
        if draw(st.booleans()):
            topo.add_node("tap-x", TapNode(namespace=home, bridge="br-x"))
    if "host" in topo:
        holders.append("host")
    next_if: dict[str | None, int] = {}  # interface names are unique per namespace

    def endpoint(node: str, subnet: int, host: int) -> Endpoint:
        ns = namespace_of(topo, node)
        index = next_if.get(ns, 0)
        next_if[ns] = index + 1
        address = (
            ()
            if node == "br-x" or draw(st.booleans())
            else (f"10.{subnet // 250}.{subnet % 250}.{host}/24",)
        )
        return Endpoint(node, f"e{index}", address)

    for _ in range(draw(st.integers(0, 8))):
        a, b = draw(st.lists(st.sampled_from(holders), min_size=2, max_size=2))
        if "br-x" in (a, b) and a == b:
            continue
        subnet = next(counter)
        link = Link((endpoint(a, subnet, 1), endpoint(b, subnet, 2)),
                    mtu=draw(st.sampled_from([None, 1400, 9000])),
                    state=draw(st.sampled_from(["up", "down"])))  # fmt: skip
        topo.add_link(link)
        # A route through a down link is invalid (the kernel refuses it).
        if (
            draw(st.booleans())
            and link.endpoints[0].addresses
            and a in netns
            and link.state == "up"
        ):
            gateway = link.endpoints[1].addresses
            if gateway and not topo.node(a).routes:
                via = gateway[0].split("/")[0]
                topo.update_node(a, routes=(Route(f"10.250.{subnet % 250}.0/24", via=via),))
    return topo
