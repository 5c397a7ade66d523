"""The live host as a topology (read-only): what `nstopo discover` and File → Open live
system show.

Namespaces are the named ones (/run/netns) and the unnamed ones of running processes
(containers), told apart by inode. Veth pairs are matched across namespaces through
the kernel's netns ids. Bridges and tun/tap devices become nodes; other devices
(physical NICs, dummies, macvlan, vxlan, ...) cannot be drawn and are listed as left
out, and so is everything else the file format cannot say: routes that are not one
unicast next hop in the main table (blackhole, unreachable, multipath, other tables),
`src` hints, policy rules, addresses on lo, veth ends that disagree on MTU or state.
The result always validates: what would break a rule is left out and listed.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nstopo.model.names import interface_name_problem, namespace_name_problem
from nstopo.model.schema import describe_path, to_document
from nstopo.model.topology import Topology
from nstopo.model.types import (
    BridgeNode,
    Endpoint,
    HostNode,
    Link,
    NetnsNode,
    Route,
    TapNode,
    TunNode,
    replace,
)
from nstopo.model.validate import validate

from .netns import NamespaceWorker
from .realizer import TAG_PREFIX
from .rtnl import AddrInfo, LinkInfo, RouteInfo, Rtnl, RuleInfo

HOST_NODE = "host"
ROUTE_TYPES = {2: "local", 3: "broadcast", 4: "anycast", 5: "multicast", 6: "blackhole",
               7: "unreachable", 8: "prohibit", 9: "throw", 10: "nat"}  # fmt: skip
LOOPBACK_ADDRESSES = {"127.0.0.1/8", "::1/128"}
# The rules every namespace starts with: (family, priority, table).
DEFAULT_RULES = {(2, 0, 255), (2, 32766, 254), (2, 32767, 253), (10, 0, 255), (10, 32766, 254)}


@dataclass
class _Space:
    """One network namespace as found: its node name (None: the host) and contents."""

    node: str | None
    path: Path
    named: bool = False  # in /run/netns (else: a process's, or the host)
    pids: list[int] = field(default_factory=list)
    links: dict[int, LinkInfo] = field(default_factory=dict)
    addresses: list[AddrInfo] = field(default_factory=list)
    routes: list[RouteInfo] = field(default_factory=list)
    rules: list[RuleInfo] = field(default_factory=list)
    nsids: dict[int, _Space] = field(default_factory=dict)  # the ids it gives the others
    forwarding: bool = False


@dataclass
class Discovery:
    topology: Topology
    owners: dict[str, str | None]  # node name -> lab that owns it (None: not nstopo's)
    link_owners: dict[str, str | None]
    unmapped: list[str]
    namespaces: dict[str, dict[str, Any]]  # node -> {"named": bool, "pids": [...]}

    def to_json(self) -> dict[str, Any]:
        links = [
            {"id": lid, "owner": self.link_owners.get(lid)} for lid in self.topology.link_ids()
        ]
        return {
            "topology": to_document(self.topology),
            "owners": self.owners,
            "links": links,
            "unmapped": self.unmapped,
            "namespaces": self.namespaces,
        }


def discover(worker: NamespaceWorker) -> Discovery:
    return worker.run(_discover_here, worker)


def _discover_here(worker: NamespaceWorker) -> Discovery:
    spaces = _find_namespaces(worker.run_dir)
    for space in spaces:
        with contextlib.suppress(OSError):  # a process may end while we look
            _read(worker, space)
    fds = {}
    for space in spaces:
        with contextlib.suppress(OSError):
            fds[id(space)] = os.open(space.path, os.O_RDONLY)
    try:
        for space in spaces:
            with contextlib.suppress(OSError):
                sock = _open(worker, space)
                try:
                    for other in spaces:
                        if other is not space and id(other) in fds:
                            nsid = sock.nsid_of(fds[id(other)])
                            if nsid is not None:
                                space.nsids[nsid] = other
                finally:
                    sock.close()
    finally:
        for fd in fds.values():
            os.close(fd)
    return _Builder(spaces).build()


def _find_namespaces(run_dir: Path) -> list[_Space]:
    # The host is the helper's own namespace (that of its main thread).
    home = Path(f"/proc/{os.getpid()}/ns/net")
    host = home.stat()
    seen: dict[tuple[int, int], _Space] = {(host.st_dev, host.st_ino): _Space(None, home)}
    if run_dir.is_dir():
        for entry in sorted(run_dir.iterdir()):
            try:
                st = entry.stat()
            except OSError:
                continue
            if not os.path.ismount(entry):
                continue  # a placeholder, not a namespace
            seen.setdefault((st.st_dev, st.st_ino), _Space(entry.name, entry, named=True))
    for pid in sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
        path = Path(f"/proc/{pid}/ns/net")
        try:
            st = path.stat()
        except OSError:
            continue
        space = seen.setdefault((st.st_dev, st.st_ino), _Space(f"pid{pid}", path))
        space.pids.append(pid)
    return list(seen.values())


def _open(worker: NamespaceWorker, space: _Space) -> Rtnl:
    return worker.open_here(space.path)


def _read(worker: NamespaceWorker, space: _Space) -> None:
    sock = _open(worker, space)
    try:
        space.links = {link.index: link for link in sock.links()}
        space.addresses = sock.addresses()
        space.routes = sock.routes()
        space.rules = sock.rules()
    finally:
        sock.close()

    def forwarding() -> bool:
        return Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "1"

    space.forwarding = worker.inside_here(space.path, forwarding)


class _Builder:
    def __init__(self, spaces: list[_Space]) -> None:
        self.spaces = spaces
        self.topo = Topology("discovered")
        self.owners: dict[str, str | None] = {}
        self.link_owners: dict[str, str | None] = {}
        self.unmapped: list[str] = []
        self.devices: dict[tuple[int, int], str] = {}  # (space id, ifindex) -> device node
        self.end_node: dict[tuple[int, int], str] = {}  # veth end -> node it is drawn on
        # The host node is "host", unless a named namespace already is.
        taken = {space.node for space in spaces if space.node}
        self.host_node, number = HOST_NODE, 1
        while self.host_node in taken:
            self.host_node, number = f"{HOST_NODE}-root{'' if number == 1 else number}", number + 1

    def left_out(self, what: str) -> None:
        """The one place that records what the drawing does not show."""
        self.unmapped.append(what)

    def where(self, space: _Space) -> str:
        return "the host" if space.node is None else f"namespace {space.node}"

    def build(self) -> Discovery:
        for space in self.spaces:
            self.add_namespace(space)
        for space in self.spaces:
            self.add_devices(space)
        for space in self.spaces:
            self.add_veths(space)
        for space in self.spaces:
            self.add_routes(space)
        self.drop_what_does_not_validate()
        namespaces = {
            s.node: {"named": s.named, "pids": s.pids[:20]}
            for s in self.spaces
            if s.node and s.node in self.topo
        }
        return Discovery(self.topo, self.owners, self.link_owners, self.unmapped, namespaces)

    def node_for(self, space: _Space) -> str:
        if space.node is None:
            if self.host_node not in self.topo:
                self.topo.add_node(self.host_node, HostNode())
                self.owners[self.host_node] = None
            return self.host_node
        return space.node

    def add_namespace(self, space: _Space) -> None:
        if space.node is None:
            return
        problem = namespace_name_problem(space.node)
        if problem:
            self.unmapped.append(f"namespace {space.node!r}: its name {problem}")
            space.node = None  # not drawable: its contents are skipped below
            space.links = {}
            return
        lo = next((link for link in space.links.values() if link.name == "lo"), None)
        sysctls = {"net.ipv4.ip_forward": 1} if space.forwarding else {}
        self.topo.add_node(
            space.node, NetnsNode(loopback="up" if lo and lo.up else "down", sysctls=sysctls)
        )
        self.owners[space.node] = _owner(lo.alias if lo else None)
        for address in space.addresses:
            if lo and address.index == lo.index and address.cidr not in LOOPBACK_ADDRESSES:
                self.left_out(
                    f"address {address.cidr} on lo in {self.where(space)}: "
                    "nstopo sets no addresses on lo"
                )
        for rule in space.rules:
            if (rule.family, rule.priority, rule.table) not in DEFAULT_RULES or rule.selectors:
                family = "IPv6 " if rule.family == 10 else ""
                selectors = " ".join(rule.selectors) or "from all"
                self.left_out(
                    f"{family}rule {rule.priority}: {selectors} lookup {rule.table} in "
                    f"{self.where(space)}: nstopo has no policy rules"
                )

    def add_devices(self, space: _Space) -> None:
        for link in space.links.values():
            if link.kind not in ("bridge", "tun", "veth") and link.name != "lo":
                article = "an" if link.kind and link.kind[0] in "aeiou" else "a"
                what = f"{article} {link.kind} device" if link.kind else "a device of no kind"
                self.left_out(f"{link.name} in {self.where(space)}: {what}; nstopo draws none")
            if link.kind not in ("bridge", "tun") or link.name in self.topo:
                if link.kind in ("bridge", "tun"):
                    self.unmapped.append(
                        f"{link.name} in {self.where(space)}: another node already has that name"
                    )
                continue
            ns = space.node
            addresses = self.addresses_of(space, link)
            state = "up" if link.up else "down"
            mtu = link.mtu if link.mtu and link.mtu != 1500 else None
            if link.kind == "bridge":
                node = BridgeNode(namespace=ns, addresses=addresses, state=state, mtu=mtu)
            elif link.tun_type == "tap":
                node = TapNode(namespace=ns, addresses=addresses, state=state, mtu=mtu)
            else:
                node = TunNode(namespace=ns, addresses=addresses, state=state, mtu=mtu)
            self.topo.add_node(link.name, node)
            self.owners[link.name] = _owner(link.alias)
            self.devices[(id(space), link.index)] = link.name
        for link in space.links.values():  # taps on bridges, now that bridges are known
            name = self.devices.get((id(space), link.index))
            bridge = self.devices.get((id(space), link.master)) if link.master else None
            if name and bridge and isinstance(self.topo.node(name), TapNode):
                self.topo.update_node(name, bridge=bridge)

    def add_veths(self, space: _Space) -> None:
        for link in space.links.values():
            if link.kind != "veth" or link.peer_index is None:
                continue
            peer_space = space if link.peer_netnsid is None else space.nsids.get(link.peer_netnsid)
            if peer_space is None or (id(peer_space), link.peer_index) in self.end_node:
                if peer_space is None:
                    self.unmapped.append(
                        f"veth {link.name} in {self.where(space)}: its peer "
                        "is in a namespace nstopo cannot see"
                    )
                continue
            peer = peer_space.links.get(link.peer_index)
            if peer is None:
                continue
            ends = [self.endpoint(space, link), self.endpoint(peer_space, peer)]
            if None in ends:
                continue
            self.end_node[(id(space), link.index)] = ends[0].node
            self.end_node[(id(peer_space), peer.index)] = ends[1].node
            # The file has one MTU and one state per veth pair: differing ends are said.
            pair = f"veth {ends[0].short} - {ends[1].short}"
            mtu = link.mtu if link.mtu != 1500 else None
            if link.mtu != peer.mtu:
                mtu = None
                self.left_out(
                    f"{pair}: MTU {link.mtu} on {ends[0].short}, {peer.mtu} on "
                    f"{ends[1].short} (one MTU per link in the file; drawn without one)"
                )
            if link.up != peer.up:
                up, down = (ends[0], ends[1]) if link.up else (ends[1], ends[0])
                self.left_out(
                    f"{pair}: {up.short} is up, {down.short} is down (one state per link "
                    "in the file; drawn as down)"
                )
            lid = self.topo.add_link(
                Link((ends[0], ends[1]), mtu=mtu, state="up" if link.up and peer.up else "down")
            )
            self.link_owners[lid] = _owner(link.alias)

    def endpoint(self, space: _Space, link: LinkInfo) -> Endpoint | None:
        if interface_name_problem(link.name):
            return None
        bridge = self.devices.get((id(space), link.master)) if link.master else None
        node = bridge or self.node_for(space)
        return Endpoint(node, link.name, self.addresses_of(space, link))

    def addresses_of(self, space: _Space, link: LinkInfo) -> tuple[str, ...]:
        return tuple(
            a.cidr
            for a in space.addresses
            if a.index == link.index and not a.address.startswith("fe80:")
        )

    def add_routes(self, space: _Space) -> None:
        if space.node is None or space.node not in self.topo:
            return  # the host's own routes are not the lab's business
        routes = []
        for r in space.routes:
            route = self.route(space, r)
            if route is not None:
                routes.append(route)
        if routes:
            self.topo.update_node(space.node, routes=tuple(routes))

    def route(self, space: _Space, r: RouteInfo) -> Route | None:
        """The route as the file says it, or None (and why, in the left-out list)."""
        where = f"{'IPv6 ' if r.family == 10 and r.to == 'default' else ''}route {r.to}"
        where += f" in {self.where(space)}"
        if r.table != 254:
            self.left_out(f"{where}, table {r.table}: nstopo routes only in the main table")
            return None
        if r.type != 1:
            kind = ROUTE_TYPES.get(r.type, f"type {r.type}")
            self.left_out(f"{kind} {where}: nstopo routes are unicast")
            return None
        if r.hops:
            self.left_out(f"multipath {where} ({r.hops} next hops): nstopo routes have one")
            return None
        dev = space.links.get(r.oif) if r.oif else None
        drawn = (
            dev is None
            or dev.name == "lo"
            or (id(space), dev.index) in self.end_node
            or (id(space), dev.index) in self.devices
        )
        if not drawn:
            assert dev is not None
            self.left_out(f"{where}: through {dev.name}, which is not drawn")
            return None
        if r.prefsrc:
            self.left_out(f"{where}: its src hint {r.prefsrc} (nstopo routes have none)")
        # 1024 is the kernel's metric for an IPv6 route added without one.
        metric = None if r.family == 10 and r.metric == 1024 else r.metric
        return Route(r.to, via=r.via, dev=dev.name if dev and not r.via else None, metric=metric)

    def drop_what_does_not_validate(self) -> None:
        """Leave out what breaks a rule (the kernel allows more than the file format)."""
        for _ in range(10):
            errors = [p for p in validate(self.topo) if p.is_error]
            if not errors:
                return
            for problem in errors:
                self.unmapped.append(f"{describe_path(problem.path)}: {problem.message}")
                self._remove(problem.path)

    def _remove(self, path: tuple) -> None:
        if path[:1] == ("links",) and len(path) >= 2:
            lids = self.topo.link_ids()
            if path[1] < len(lids):
                lid = lids[path[1]]
                link = self.topo.link(lid)
                if "addresses" in path and len(path) >= 4:
                    end = path[3]
                    eps = list(link.endpoints)
                    eps[end] = replace(eps[end], addresses=())
                    self.topo.update_link(lid, endpoints=tuple(eps))
                else:
                    self.topo.remove_link(lid)
        elif path[:1] == ("nodes",) and len(path) >= 2 and path[1] in self.topo:
            name = path[1]
            if "routes" in path:  # only the route that breaks a rule
                routes = list(getattr(self.topo.node(name), "routes", ()))
                index = (
                    path[path.index("routes") + 1] if len(path) > path.index("routes") + 1 else None
                )
                if isinstance(index, int) and index < len(routes):
                    del routes[index]
                else:
                    routes = []
                self.topo.update_node(name, routes=tuple(routes))
            elif "addresses" in path:
                self.topo.update_node(name, addresses=())
            elif "sysctls" in path:
                self.topo.update_node(name, sysctls={})
            else:
                self.topo.remove_node(name)


def _owner(alias: str | None) -> str | None:
    return alias[len(TAG_PREFIX) :] if alias and alias.startswith(TAG_PREFIX) else None
