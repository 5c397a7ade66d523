"""Semantic checks of a topology: what the kernel would refuse, or what would not work.

Works on a `LabFile` (so links to missing nodes can be reported) and returns
problems with paths; callers turn paths into file:line:col (`SourceMap`) or into
items to select (the editor).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field

from .checks import suite_problems
from .names import LAB_NAME_RE, interface_name_problem, namespace_name_problem
from .natcheck import nat_problems
from .netem import link_problems as netem_problems
from .placement import NamespaceKey, names_host, namespace_label, namespace_of_node
from .problems import Path, Problem, error, warning
from .schema import LabFile, describe_path, lab_from_topology
from .sysctls import sysctl_allowed
from .topology import Topology
from .types import BridgeNode, HostNode, NetnsNode, Node, Route, TapNode, TunNode

# ipaddress parsing is slow (tens of µs); re-validating a large lab after a small edit
# parses the same strings again, so remember them. Values are immutable.
_interface = functools.lru_cache(maxsize=1 << 16)(ipaddress.ip_interface)

MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


def validate(topology: Topology) -> list[Problem]:
    return validate_lab(lab_from_topology(topology))


def validate_lab(lab: LabFile) -> list[Problem]:
    return _Checker(lab).run() + suite_problems(lab)


def has_errors(problems: list[Problem]) -> bool:
    return any(p.is_error for p in problems)


@dataclass
class _Iface:
    """An interface the topology puts in a namespace, with where it was declared."""

    name: str
    path: Path
    addresses: list[tuple[Interface, Path]] = field(default_factory=list)
    down: Path | None = None  # where `state: down` (or `loopback: down`) says so


@dataclass
class _Checker:
    lab: LabFile
    problems: list[Problem] = field(default_factory=list)
    # namespace -> interface name -> interface
    ifaces: dict[NamespaceKey, dict[str, _Iface]] = field(default_factory=dict)

    def lookup(self, name: str) -> Node | None:
        return self.lab.nodes.get(name)

    def run(self) -> list[Problem]:
        self.check_lab()
        for name, node in self.lab.nodes.items():
            self.check_node(name, node)
        for index, _ in enumerate(self.lab.links):
            self.check_link(index)
        self.check_addresses()
        self.check_bridge_mtus()
        for name, node in self.lab.nodes.items():
            if isinstance(node, NetnsNode | HostNode):
                for i, route in enumerate(node.routes):
                    self.check_route(name, route, ("nodes", name, "routes", i))
        return self.problems

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    # -- lab ----------------------------------------------------------------------------
    def check_lab(self) -> None:
        if not LAB_NAME_RE.match(self.lab.name):
            self.add(
                error(
                    "lab-name",
                    f'the lab name "{self.lab.name}" is not valid; use 1-24 '
                    "lowercase letters, digits and dashes, starting with a letter or digit",
                    ("name",),
                )
            )
        if self.lab.subnet is not None:
            try:
                ipaddress.ip_network(self.lab.subnet, strict=True)
            except ValueError as exc:
                self.add(
                    error(
                        "subnet",
                        f'the subnet "{self.lab.subnet}" is not a network '
                        f"({exc}); write it like 10.77.0.0/16",
                        ("subnet",),
                    )
                )
        hosts = [n for n, v in self.lab.nodes.items() if isinstance(v, HostNode)]
        for extra in hosts[1:]:
            self.add(
                error(
                    "single-host",
                    f'node "{extra}" is a second host node, but there is '
                    f'one host namespace; link to "{hosts[0]}" instead',
                    ("nodes", extra),
                )
            )

    # -- nodes --------------------------------------------------------------------------
    def check_node(self, name: str, node: Node) -> None:
        path: Path = ("nodes", name)
        if isinstance(node, BridgeNode | TapNode | TunNode):
            problem = interface_name_problem(name)
            if problem:
                self.add(
                    error(
                        "interface-name",
                        f'the {node.kind} name "{name}" {problem}; rename the node',
                        path,
                    )
                )
            self.check_device(name, node, path)
        else:
            problem = namespace_name_problem(name)
            if problem:
                self.add(
                    error("node-name", f'the node name "{name}" {problem}; rename the node', path)
                )
        if isinstance(node, NetnsNode):
            lo = self.interface("lo", name, ("nodes", name, "loopback"))
            if node.loopback == "down":
                lo.down = ("nodes", name, "loopback")
            for key in node.sysctls:
                if not sysctl_allowed(key):
                    self.add(
                        error(
                            "sysctl",
                            f'sysctl "{key}" is not one nstopo may set; use a '
                            "net.ipv4/net.ipv6 forwarding, rp_filter, proxy_arp, arp or "
                            "icmp key (see docs/format.md)",
                            (*path, "sysctls", key),
                        )
                    )
        if isinstance(node, HostNode):
            self.interface("lo", None, path)
        self.problems.extend(nat_problems(name, node))

    def check_device(self, name: str, node: BridgeNode | TapNode | TunNode, path: Path) -> None:
        if node.namespace is not None:
            target = self.lookup(node.namespace)
            if target is None and not names_host(self.lookup, node.namespace):
                self.add(
                    error(
                        "namespace-ref",
                        f'{node.kind} "{name}" lives in namespace '
                        f'"{node.namespace}", but there is no such node; add a netns node '
                        "of that name or remove the key",
                        (*path, "namespace"),
                    )
                )
            elif target is not None and not isinstance(target, NetnsNode | HostNode):
                self.add(
                    error(
                        "namespace-ref",
                        f'{node.kind} "{name}" lives in "{node.namespace}"'
                        f", which is a {target.kind}, not a namespace; name a netns or "
                        "host node",
                        (*path, "namespace"),
                    )
                )
        ns = namespace_of_node(self.lookup, name)
        iface = self.interface(name, ns, path)
        if node.state == "down":
            iface.down = (*path, "state")
        self.collect_addresses(iface, node.addresses, (*path, "addresses"))
        if not isinstance(node, TunNode):
            self.check_mac(node.mac, (*path, "mac"))
        if isinstance(node, TapNode | TunNode) and node.bridge is not None:
            self.check_enslaved_device(name, node, ns, path)

    def check_enslaved_device(
        self, name: str, node: TapNode | TunNode, ns: NamespaceKey, path: Path
    ) -> None:
        where = (*path, "bridge")
        assert node.bridge is not None
        if isinstance(node, TunNode):
            self.add(
                error(
                    "tun-bridge",
                    f'tun "{name}" cannot join bridge "{node.bridge}": a '
                    "tun carries IP packets, not Ethernet frames; use a tap instead",
                    where,
                )
            )
            return
        bridge = self.lookup(node.bridge)
        if not isinstance(bridge, BridgeNode):
            what = "there is no such node" if bridge is None else f"it is a {bridge.kind}"
            self.add(
                error(
                    "bridge-ref",
                    f'tap "{name}" joins "{node.bridge}", but {what}; name a bridge node',
                    where,
                )
            )
            return
        bridge_ns = namespace_of_node(self.lookup, node.bridge)
        if bridge_ns != ns:
            self.add(
                error(
                    "bridge-namespace",
                    f'tap "{name}" is in {namespace_label(ns)} but '
                    f'bridge "{node.bridge}" is in {namespace_label(bridge_ns)}; a port '
                    "must be in its bridge's namespace: give both the same namespace",
                    where,
                )
            )
        if node.addresses:
            self.add(_enslaved_address_warning(f'tap "{name}"', node.bridge, (*path, "addresses")))

    # -- links --------------------------------------------------------------------------
    def check_link(self, index: int) -> None:
        link = self.lab.links[index]
        self.problems += netem_problems(link, index)
        for end, ep in enumerate(link.endpoints):
            path: Path = ("links", index, "endpoints", end)
            node = self.lookup(ep.node)
            if node is None:
                self.add(
                    error(
                        "missing-node",
                        f'{describe_path(path)} names node "{ep.node}", '
                        "which does not exist; add the node or fix the name",
                        (*path, "node"),
                    )
                )
                continue
            if isinstance(node, TapNode | TunNode):
                self.add(
                    error(
                        "endpoint-kind",
                        f"{describe_path(path)} ends on {node.kind} "
                        f'"{ep.node}"; a veth can end on a netns, host or bridge node '
                        f"(attach a tap to a bridge with its bridge key)",
                        (*path, "node"),
                    )
                )
                continue
            problem = interface_name_problem(ep.interface)
            if problem:
                self.add(
                    error(
                        "interface-name",
                        f'interface name "{ep.interface}" {problem}; rename the interface',
                        (*path, "interface"),
                    )
                )
            ns = namespace_of_node(self.lookup, ep.node)
            iface = self.interface(ep.interface, ns, (*path, "interface"))
            if link.state == "down":
                iface.down = ("links", index, "state")
            self.collect_addresses(iface, ep.addresses, (*path, "addresses"))
            self.check_mac(ep.mac, (*path, "mac"))
            if isinstance(node, BridgeNode) and ep.addresses:
                self.add(
                    _enslaved_address_warning(
                        f'port "{ep.interface}"', ep.node, (*path, "addresses")
                    )
                )

    # -- interfaces and addresses ---------------------------------------------------------
    def interface(self, name: str, ns: NamespaceKey, path: Path) -> _Iface:
        names = self.ifaces.setdefault(ns, {})
        if name in names:
            first = names[name]
            where = "the loopback" if name == "lo" else describe_path(first.path)
            self.add(
                error(
                    "duplicate-interface",
                    f'interface "{name}" is already defined in '
                    f"{namespace_label(ns)} ({where}); rename one of them",
                    path,
                )
            )
            return _Iface(name, path)  # keep checking its addresses, separately
        names[name] = iface = _Iface(name, path)
        return iface

    def collect_addresses(self, iface: _Iface, addresses: tuple[str, ...], path: Path) -> None:
        for i, text in enumerate(addresses):
            where: Path = (*path, i)
            try:
                iface.addresses.append((_interface(text), where))
                if "/" not in text:
                    raise ValueError
            except ValueError:
                reason = "it has no prefix length" if _is_ip(text) else "it is not an IP address"
                self.add(
                    error(
                        "address",
                        f'"{text}" is not an address with a prefix length '
                        f"({reason}); write it like 10.77.0.2/24 or fd00::2/64",
                        where,
                    )
                )

    def check_addresses(self) -> None:
        for ns, names in self.ifaces.items():
            seen: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, Path] = {}
            for iface in names.values():
                for address, path in iface.addresses:
                    if address.ip in seen:
                        self.add(
                            error(
                                "duplicate-address",
                                f"address {address.ip} is already "
                                f"used in {namespace_label(ns)} "
                                f"({describe_path(seen[address.ip])}); give each "
                                "interface its own address",
                                path,
                            )
                        )
                    else:
                        seen[address.ip] = path

    def check_mac(self, mac: str | None, path: Path) -> None:
        if mac is None:
            return
        if not MAC_RE.match(mac):
            self.add(
                error(
                    "mac",
                    f'"{mac}" is not a MAC address; write six hex pairs like 02:00:00:00:00:01',
                    path,
                )
            )
        elif int(mac[:2], 16) & 1:
            self.add(
                error(
                    "mac",
                    f"{mac} is a multicast address; use a unicast one such as "
                    "02:00:00:00:00:01 (even first byte)",
                    path,
                )
            )

    def check_bridge_mtus(self) -> None:
        """A bridge created with an MTU takes its smallest port's MTU as soon as a port
        joins (the kernel keeps only an MTU set after that), so say what it will be."""
        for name, node in self.lab.nodes.items():
            if not isinstance(node, BridgeNode) or node.mtu is None:
                continue
            ports = [
                (link.mtu or 1500, f"link {index + 1}")
                for index, link in enumerate(self.lab.links)
                for ep in link.endpoints
                if ep.node == name
            ]
            ports += [
                (other.mtu or 1500, f'tap "{tap}"')
                for tap, other in self.lab.nodes.items()
                if isinstance(other, TapNode) and other.bridge == name
            ]
            if not ports:
                continue
            smallest, where = min(ports)
            if smallest != node.mtu:
                self.add(
                    warning(
                        "bridge-mtu",
                        f'bridge "{name}" asks for MTU {node.mtu}, but the kernel gives a '
                        f"bridge its smallest port's MTU when a port joins: {smallest} "
                        f"({where}); give its ports MTU {node.mtu} too, or drop the bridge's",
                        ("nodes", name, "mtu"),
                    )
                )

    # -- routes -------------------------------------------------------------------------
    def check_route(self, node: str, route: Route, path: Path) -> None:
        ns = namespace_of_node(self.lookup, node)
        ifaces = self.ifaces.get(ns, {})
        family: int | None = None
        if route.to != "default":
            try:
                family = ipaddress.ip_network(route.to, strict=True).version
            except ValueError as exc:
                self.add(
                    error(
                        "route",
                        f'route destination "{route.to}" is not a network '
                        f'({exc}); write "default" or a CIDR like 10.9.0.0/16',
                        (*path, "to"),
                    )
                )
                return
        if route.via is None and route.dev is None:
            self.add(
                error(
                    "route",
                    f"the route to {route.to} says neither via nor dev; add the "
                    "gateway (via) or the interface (dev)",
                    path,
                )
            )
            return
        if route.dev is not None and route.dev not in ifaces:
            self.add(
                error(
                    "route-dev",
                    f'the route to {route.to} uses dev "{route.dev}", which '
                    f"is not an interface of {namespace_label(ns)}; name one of: "
                    f"{', '.join(sorted(ifaces)) or 'none yet'}",
                    (*path, "dev"),
                )
            )
            return
        if route.via is None:
            if route.dev is not None:
                self.check_route_up(route, ifaces[route.dev], path)
            return
        try:
            gateway = ipaddress.ip_address(route.via)
        except ValueError:
            self.add(
                error(
                    "route",
                    f'gateway "{route.via}" is not an IP address; write it like 10.77.0.1',
                    (*path, "via"),
                )
            )
            return
        if family is not None and gateway.version != family:
            self.add(
                error(
                    "route",
                    f"gateway {gateway} is IPv{gateway.version} but the "
                    f"destination {route.to} is IPv{family}; use one family",
                    (*path, "via"),
                )
            )
            return
        if gateway.is_link_local and route.dev is not None:
            self.check_route_up(route, ifaces[route.dev], path)
            return  # fe80:: gateways are reached through the named device
        candidates = [ifaces[route.dev]] if route.dev is not None else list(ifaces.values())
        through = [i for i in candidates for addr, _ in i.addresses if gateway in addr.network]
        if through and all(i.down for i in through):
            self.check_route_up(route, through[0], path)
        elif not through:
            scope = f'"{route.dev}"' if route.dev else namespace_label(ns)
            self.add(
                error(
                    "route-gateway",
                    f"gateway {gateway} is in no subnet of {scope}, so "
                    "the kernel cannot reach it; add an address in its subnet or fix the "
                    "gateway",
                    (*path, "via"),
                )
            )

    def check_route_up(self, route: Route, iface: _Iface, path: Path) -> None:
        """The kernel adds no route through an interface that is down ("Nexthop device
        is not up"), and apply keeps it down: say so now, not at apply's last steps."""
        if iface.down is None:
            return
        where = f"gateway {route.via} is reached through" if route.via else "it uses"
        key = iface.down[-1]
        said = (
            f"{key}: down on link {iface.down[1] + 1}"
            if iface.down[0] == "links"
            else f'{key}: down on node "{iface.down[1]}"'
        )
        self.add(
            error(
                "route-down",
                f'the route to {route.to} cannot be added: {where} "{iface.name}", which is '
                f"down ({said}) and the kernel adds no route through a down interface; "
                "bring it up or drop the route",
                path,
            )
        )


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _enslaved_address_warning(what: str, bridge: str, path: Path) -> Problem:
    return warning(
        "enslaved-address",
        f'{what} is enslaved to bridge "{bridge}" and has an '
        "address: frames it receives go to the bridge, so the IP stack never answers "
        "on it (ping -I fails); put the address on the bridge instead",
        path,
    )
