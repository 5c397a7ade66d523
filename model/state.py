"""The kernel objects a topology stands for, flattened so two of them can be diffed."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import nftables
from .netem import Netem, effective
from .placement import NamespaceKey, namespace_of_node
from .steps import DeviceKind
from .topology import Topology
from .types import BridgeNode, HostNode, NetnsNode, Route, TapNode, TunNode

DeviceKey = tuple[NamespaceKey, str]


@dataclass(frozen=True)
class Device:
    ns: NamespaceKey
    name: str
    kind: DeviceKind
    up: bool = True
    mtu: int | None = None
    mac: str | None = None
    master: str | None = None
    peer: DeviceKey | None = None  # veth only
    first: bool = True  # veth: the end whose namespace creates the pair
    netem: Netem | None = None  # veth: the root qdisc impairing what this end sends

    @property
    def key(self) -> DeviceKey:
        return (self.ns, self.name)

    def same_identity(self, other: Device) -> bool:
        """Could `other` be this very device (so only attributes differ)?"""
        return self.kind == other.kind and self.peer == other.peer


@dataclass
class KernelState:
    namespaces: dict[str, bool] = field(default_factory=dict)  # name -> loopback up
    devices: dict[DeviceKey, Device] = field(default_factory=dict)
    addresses: dict[tuple[NamespaceKey, str, str], None] = field(default_factory=dict)
    routes: dict[tuple[NamespaceKey, Route], None] = field(default_factory=dict)
    sysctls: dict[tuple[str, str], str] = field(default_factory=dict)
    # nftables text loaded per namespace (None: the lab's own table in the host)
    rulesets: dict[NamespaceKey, str] = field(default_factory=dict)


def kernel_state(topology: Topology) -> KernelState:
    """What the kernel holds when `topology` is realized (assumed valid)."""
    state = KernelState()
    lookup = topology.get_node
    for name, node in topology.nodes():
        if isinstance(node, NetnsNode):
            state.namespaces[name] = node.loopback == "up"
            for key, value in node.sysctls.items():
                state.sysctls[(name, key)] = str(value)
    for name, node in topology.nodes():
        if isinstance(node, BridgeNode | TapNode | TunNode):
            ns = namespace_of_node(lookup, name)
            master = node.bridge if isinstance(node, TapNode | TunNode) else None
            mac = None if isinstance(node, TunNode) else node.mac
            device = Device(ns, name, node.kind, node.state == "up", node.mtu, mac, master)
            state.devices[device.key] = device
            for address in node.addresses:
                state.addresses[(ns, name, address)] = None
    for _, link in topology.links():
        ends = [(namespace_of_node(lookup, ep.node), ep) for ep in link.endpoints]
        first = _first_end([ns for ns, _ in ends], [lookup(ep.node) for ep in link.endpoints])
        for index, (ns, ep) in enumerate(ends):
            peer_ns, peer_ep = ends[1 - index]
            bridge = topology.get_node(ep.node)
            master = ep.node if isinstance(bridge, BridgeNode) else None
            device = Device(
                ns,
                ep.interface,
                "veth",
                link.state == "up",
                link.mtu,
                ep.mac,
                master,
                (peer_ns, peer_ep.interface),
                index == first,
                effective(link.netem, ep.netem),
            )
            state.devices[device.key] = device
            for address in ep.addresses:
                state.addresses[(ns, ep.interface, address)] = None
    for name, node in topology.nodes():
        if isinstance(node, NetnsNode | HostNode):
            ns = namespace_of_node(lookup, name)
            for route in node.routes:
                state.routes[(ns, route)] = None
    _add_rulesets(state, topology)
    return state


def _add_rulesets(state: KernelState, topology: Topology) -> None:
    for name, node in topology.nodes():
        if isinstance(node, NetnsNode) and (node.firewall or node.nat):
            state.rulesets[name] = nftables.netns_ruleset(node.firewall, node.nat)
        elif isinstance(node, HostNode) and node.nat:
            state.rulesets[None] = nftables.host_ruleset(topology.name, node.nat)


def _first_end(namespaces: list[NamespaceKey], nodes: list[object]) -> int:
    """Create a pair from its host end, else its bridge end: the peer then lands in a
    named namespace (`peer name eth0 netns a`), as a person would type it."""
    for index, ns in enumerate(namespaces):
        if ns is None:
            return index
    for index, node in enumerate(nodes):
        if isinstance(node, BridgeNode):
            return index
    return 0
