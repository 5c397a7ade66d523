"""Export a topology as a containerlab file (`.clab.yml`), as faithfully as it maps.

containerlab builds containers, not bare namespaces, so: a netns node becomes a
`linux` node (an alpine container, its addresses, sysctls and routes set by `exec`);
a bridge inside a namespace is made by that container's `exec` (its ports are the
container's links); a bridge in the host becomes a `bridge` node (containerlab
expects it to exist: the file says so); the host node becomes containerlab's special
`host` link node. Whatever cannot map goes through `_Export.not_mapped`, the one place
that records it, and is listed in the file's header (see docs/containerlab.md).

The rules the output must obey are containerlab's, checked against its own schema and
source in tests/unit/test_containerlab.py: node names match its pattern (and Docker's
container names), `host` and `mgmt-net` are its special link nodes, a `linux` node's
`eth0` is its management interface (`CheckInterfaceName` in nodes/linux/linux.go), an
empty `links:` list is rejected (`minItems: 1`).
"""

from __future__ import annotations

import io
import ipaddress
import re

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from . import netem
from .placement import namespace_of_node
from .topology import Topology
from .types import BridgeNode, Endpoint, HostNode, Link, NetnsNode, Route, TapNode, TunNode

IMAGE = "alpine:3.20"
HOST = "host"  # containerlab's special link node for the host namespace
RESERVED_NODE_NAMES = frozenset({HOST, "mgmt-net"})
# containerlab's schema allows [a-zA-Z0-9][a-zA-Z0-9-._|]*; Docker's container names
# (clab-LAB-NODE) do not allow `|`, so the exporter keeps to the intersection.
NODE_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
_BAD_NODE_CHARS = re.compile(r"[^a-zA-Z0-9._-]")
MGMT_INTERFACE = "eth0"  # a linux node's management interface (network-mode not none)

_EXEC_ORDER = ("ip link add", "ip link set", "ip addr", "sysctl", "ip route")


def _exec_rank(line: str) -> int:
    return next(i for i, prefix in enumerate(_EXEC_ORDER) if line.startswith(prefix))


def containerlab_node_name(name: str, taken: set[str]) -> str:
    """A name containerlab accepts for nstopo node `name`, not in `taken`."""
    candidate = _BAD_NODE_CHARS.sub("-", name)
    if not candidate[:1].isalnum():
        candidate = "n" + candidate
    if candidate in RESERVED_NODE_NAMES:
        candidate += "-ns"
    base, number = candidate, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _addr_command(address: str, dev: str) -> str:
    # IPv6 without duplicate address detection, as the helper adds them (usable at once).
    nodad = " nodad" if ipaddress.ip_interface(address).version == 6 else ""
    return f"ip addr add {address} dev {dev}{nodad}"


class _Export:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.notes: list[str] = []  # header lines: "Not mapped: ..." and "Renamed: ..."
        self.nodes: dict[str, dict] = {}
        self.names = self._node_names()
        # The exec lines of each containerlab linux node (one per netns node).
        self.execs: dict[str, list[str]] = {
            self.names[name]: [] for name, node in topology.nodes() if isinstance(node, NetnsNode)
        }
        self.interfaces = self._interface_names()

    def not_mapped(self, subject: str, what: str) -> None:
        """The one place that records what the containerlab file does not carry."""
        self.notes.append(f"Not mapped: {subject}: {what}")

    def renamed(self, subject: str, new: str, why: str) -> None:
        self.notes.append(f"Renamed: {subject} is {new} ({why})")

    # -- names ------------------------------------------------------------------

    def _node_names(self) -> dict[str, str]:
        """nstopo node -> containerlab node, for every node that becomes one."""
        names: dict[str, str] = {}
        taken = set(RESERVED_NODE_NAMES)
        for name, node in self.topology.nodes():
            if isinstance(node, HostNode):
                names[name] = HOST
        becoming = [
            name
            for name, node in self.topology.nodes()
            if isinstance(node, NetnsNode)
            or (isinstance(node, BridgeNode) and self._home(name) is None)
        ]
        # Names containerlab accepts stay; the others get a free name after that.
        for name in becoming:
            if NODE_NAME_RE.match(name) and name not in RESERVED_NODE_NAMES:
                names[name] = name
                taken.add(name)
        for name in becoming:
            if name in names:
                continue
            names[name] = containerlab_node_name(name, taken)
            taken.add(names[name])
            why = (
                f'"{name}" is containerlab\'s special host node'
                if name in RESERVED_NODE_NAMES
                else "containerlab node names match ^[a-zA-Z0-9][a-zA-Z0-9._-]*$"
            )
            self.renamed(name, names[name], why)
        return names

    def _home(self, name: str) -> str | None:
        return namespace_of_node(self.topology.get_node, name)

    def _owner(self, endpoint: Endpoint) -> str | None:
        """The containerlab node an endpoint's interface lands on, None if none."""
        node = self.topology.node(endpoint.node)
        if isinstance(node, BridgeNode) and self._home(endpoint.node) is not None:
            return self.names.get(self._home(endpoint.node) or "")
        return self.names.get(endpoint.node)

    def _is_linux(self, clab_name: str | None) -> bool:
        return clab_name is not None and clab_name in self.execs

    def _interface_names(self) -> dict[tuple[str, str], str]:
        """(containerlab node, interface) -> its name there: a linux node's eth0 is
        containerlab's management interface, so ours moves to the first free ethN."""
        used: dict[str, set[str]] = {}
        for _, link in self.topology.links():
            for ep in link.endpoints:
                owner = self._owner(ep)
                if owner is not None:
                    used.setdefault(owner, set()).add(ep.interface)
        for name, node in self.topology.nodes():
            home = self._home(name)
            if isinstance(node, BridgeNode) and home is not None and home in self.names:
                used.setdefault(self.names[home], set()).add(name)
        renamed: dict[tuple[str, str], str] = {}
        for owner, interfaces in used.items():
            if MGMT_INTERFACE in interfaces and self._is_linux(owner):
                number = 1
                while f"eth{number}" in interfaces:
                    number += 1
                renamed[(owner, MGMT_INTERFACE)] = new = f"eth{number}"
                interfaces.add(new)
                self.renamed(
                    f"{owner}:{MGMT_INTERFACE}",
                    f"{owner}:{new}",
                    "eth0 is containerlab's management interface in a linux node",
                )
        return renamed

    def interface(self, owner: str, name: str) -> str:
        return self.interfaces.get((owner, name), name)

    # -- nodes ------------------------------------------------------------------

    def add_nodes(self) -> None:
        for name, node in self.topology.nodes():
            if isinstance(node, NetnsNode):
                self._netns(name, node)
            elif isinstance(node, BridgeNode):
                self._bridge(name, node)
            elif isinstance(node, TapNode | TunNode):
                self.not_mapped(name, f"{node.kind} devices have no containerlab kind")
            elif isinstance(node, HostNode):
                for route in node.routes:
                    self.not_mapped(
                        f"{name}: route {route.to}", "containerlab does not change host routes"
                    )

    def _netns(self, name: str, node: NetnsNode) -> None:
        clab = self.names[name]
        self.nodes[clab] = {"kind": "linux", "image": IMAGE}
        lines = self.execs[clab]
        if node.loopback == "down":
            lines.append("ip link set lo down")
        lines += [f"sysctl -w {key}={value}" for key, value in node.sysctls.items()]
        lines += [self._route(clab, route) for route in node.routes]

    def _route(self, clab: str, route: Route) -> str:
        words = ["ip route replace", route.to]
        if route.via:
            words += ["via", route.via]
        if route.dev:
            words += ["dev", self.interface(clab, route.dev)]
        if route.metric is not None:
            words += ["metric", str(route.metric)]
        return " ".join(words)

    def _bridge(self, name: str, node: BridgeNode) -> None:
        home = self._home(name)
        if home is None:
            self.nodes[self.names[name]] = {"kind": "bridge"}
            make = [f"ip link add {name} type bridge"]
            settings = [f"mtu {node.mtu}"] if node.mtu else []
            settings += [f"address {node.mac}"] if node.mac else []
            if settings:
                make[0] += " " + " ".join(settings)
            make += [f"ip addr add {a} dev {name}" for a in node.addresses]
            if node.state == "up":
                make.append(f"ip link set {name} up")
            unsupported = [
                *settings,
                *(f"address {a}" for a in node.addresses),
                *(["state down"] if node.state == "down" else []),
            ]
            what = "containerlab expects this host bridge to exist"
            if unsupported:
                what += f" and sets none of: {', '.join(unsupported)}"
            self.not_mapped(name, f"{what}; make it first: {' && '.join(make)}")
            return
        clab = self.names.get(home)
        if clab is None or clab not in self.execs:
            return
        settings = [f"mtu {node.mtu}"] if node.mtu else []
        settings += [f"address {node.mac}"] if node.mac else []
        lines = self.execs[clab]
        lines.append(f"ip link add {name} type bridge")
        if settings:
            lines.append(f"ip link set {name} {' '.join(settings)}")
        if node.state == "up":
            lines.append(f"ip link set {name} up")
        lines += [_addr_command(a, name) for a in node.addresses]

    # -- links ------------------------------------------------------------------

    def link_entry(self, link: Link) -> dict | None:
        ends: list[tuple[str, str, Endpoint]] = []
        for ep in link.endpoints:
            owner = self._owner(ep)
            if owner is None:
                self.not_mapped(
                    f"link {link.endpoints[0].short} - {link.endpoints[1].short}",
                    f"{ep.node} has no containerlab node",
                )
                return None
            ends.append((owner, self.interface(owner, ep.interface), ep))
        for owner, ifname, ep in ends:
            self._endpoint_settings(owner, ifname, ep, link)
        if any(ep.mac for _, _, ep in ends):
            # The extended link format carries each end's MAC.
            entry: dict = {"type": "veth", "endpoints": []}
            for owner, ifname, ep in ends:
                end: dict = {"node": owner, "interface": ifname}
                if ep.mac:
                    # Quoted: a YAML 1.1 reader takes 02:00:... for a base-60 number.
                    end["mac"] = DoubleQuotedScalarString(ep.mac)
                entry["endpoints"].append(end)
        else:
            entry = {"endpoints": [f"{owner}:{ifname}" for owner, ifname, _ in ends]}
        if link.mtu:
            entry["mtu"] = link.mtu
        return entry

    def _endpoint_settings(self, owner: str, ifname: str, ep: Endpoint, link: Link) -> None:
        node = self.topology.node(ep.node)
        if impaired := netem.effective(link.netem, ep.netem):
            self.not_mapped(
                f"{owner}:{ifname}",
                f"netem {' '.join(netem.tc_words(impaired)[1:])} (containerlab has no "
                f"impairments in its file; after deploy: containerlab tools netem set -n "
                f"clab-{self.topology.name}-{owner} -i {ifname})",
            )
        if self._is_linux(owner):
            lines = self.execs[owner]
            if isinstance(node, BridgeNode):
                lines.append(f"ip link set {ifname} master {ep.node}")
            lines += [_addr_command(a, ifname) for a in ep.addresses]
            if link.state == "down":
                lines.append(f"ip link set {ifname} down")
            return
        where = f"{owner}:{ifname}"
        for address in ep.addresses:
            self.not_mapped(where, f"address {address} (containerlab sets none in the host)")
        if link.state == "down":
            self.not_mapped(where, "state down (containerlab brings this end up)")


def export_containerlab(topology: Topology) -> str:
    export = _Export(topology)
    export.add_nodes()
    links = [e for _, link in topology.links() if (e := export.link_entry(link)) is not None]
    for name, lines in export.execs.items():
        if lines:
            # Bridges and link settings first, then addresses, then sysctls and routes.
            export.nodes[name]["exec"] = sorted(lines, key=_exec_rank)
    body: dict = {"nodes": export.nodes}
    if links:  # the schema wants at least one link when the key is there
        body["links"] = links
    doc = {"name": topology.name, "topology": body}
    out = io.StringIO()
    header = [
        f"# containerlab topology exported by nstopo from lab {topology.name!r}.",
        "# Deploy: sudo containerlab deploy -t THIS_FILE",
    ]
    header += [f"# {note}" for note in export.notes]
    out.write("\n".join(header) + "\n")
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.dump(doc, out)
    return out.getvalue()
