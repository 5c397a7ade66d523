"""Execute plan steps on the kernel over rtnetlink, on the namespace worker thread.

Every interface nstopo creates is tagged with the ifalias `nstopo:<lab>`; every
namespace it creates has that tag on its `lo`, set before the namespace gets its
name. A veth end bound for another namespace (the host included) is created next
to its twin, tagged, then moved, so nothing untagged ever appears outside. Steps
on one namespace go to the kernel in one batch; deleting steps treat "already
gone" as done, so rollback and destroy can be repeated.
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import os
import struct
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from nstopo.model import nftables
from nstopo.model import steps as s
from nstopo.model.netem import values
from nstopo.model.steps import Step
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from . import nft, qdisc, rtnl
from .hostpolicy import HostEntry, HostView
from .kernelnow import Observed
from .netns import NETNS_RUN_DIR, NamespaceWorker
from .rtnl import AddrInfo, FdbEntry, LinkInfo, Request, Rtnl

TAG_PREFIX = "nstopo:"
OPEN_AT_ONCE = 64  # per-namespace netlink sockets (and namespace fds) during one operation
T = TypeVar("T")
GONE = frozenset({errno.ENODEV, errno.ENOENT, errno.EADDRNOTAVAIL, errno.ESRCH})
TUNSETIFF, TUNSETPERSIST = 0x400454CA, 0x400454CB
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000
Namespace = str | None


def tag_for(lab: str) -> str:
    return f"{TAG_PREFIX}{lab}"


class StepFailed(Exception):
    def __init__(self, index: int, step: Step, reason: str) -> None:
        # The first line: an nft step's command goes on with its rules.
        super().__init__(f"{step.command().splitlines()[0]}: {reason}")
        self.index, self.step, self.reason = index, step, reason


class Realizer:
    """Turns steps into netlink requests. Public methods may be called from any
    thread; they hand the work to the worker thread, which owns the namespaces."""

    def __init__(self, worker: NamespaceWorker | None = None, run_dir: Path = NETNS_RUN_DIR):
        self.worker = worker or NamespaceWorker(run_dir)
        self.run_dir = self.worker.run_dir
        self._home = self.worker.home_handle()
        # Per-namespace handles live only during one operation, at most `OPEN_AT_ONCE`
        # of each kind (least recently used closed first): idle, the helper holds no
        # fd per namespace, so a 2,000-namespace lab fits the default 1,024 fd limit.
        self._sockets: OrderedDict[str, Rtnl] = OrderedDict()
        self._fds: dict[str, int] = {}
        self._indexes: dict[Namespace, dict[str, int]] = {}
        self._deferred: list[tuple[Namespace, Request]] = []  # for the step being built

    def close(self) -> None:
        self.worker.run(self._idle)
        self._home.close()
        self.worker.close()

    def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn` on the worker thread; its per-namespace handles are closed after it."""

        def then_idle() -> T:
            try:
                return fn(*args)
            finally:
                self._idle()

        return self.worker.run(then_idle)

    def _idle(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()
        self._close_fds()
        self._indexes.clear()

    def _close_fds(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    # -- executing ----------------------------------------------------------------------------
    def realize(
        self, steps: list[Step], lab: str, done: Callable[[int], None], keep_going: bool = False
    ) -> list[StepFailed]:
        """Run steps in order; `done(i)` for each that took effect. Stops at the first
        failure unless `keep_going`; returns the failures."""
        return self._run(self._realize, steps, lab, done, keep_going)

    def _realize(
        self, steps: list[Step], lab: str, done: Callable[[int], None], keep_going: bool
    ) -> list[StepFailed]:
        failures: list[StepFailed] = []
        batch: list[tuple[int, list[Request], list[tuple[Namespace, Request]]]] = []
        batch_ns: Namespace = None

        def flush() -> None:
            if not batch:
                return
            requests = [r for _, reqs, _ in batch for r in reqs]
            codes = _run_or_errno(lambda: self._socket(batch_ns).run(requests), len(requests))
            position, outcome = 0, {}
            for index, reqs, _ in batch:
                outcome[index] = next((c for c in codes[position : position + len(reqs)] if c), 0)
                position += len(reqs)
            # Requests for other namespaces that had to wait for this batch (peer tags).
            for index, _, later in batch:
                for ns, request in later:
                    send = lambda ns=ns, r=request: self._socket(ns).run([r])  # noqa: E731
                    code = _run_or_errno(send, 1)[0]
                    outcome[index] = outcome[index] or code
            for index, _, _ in batch:
                if outcome[index]:
                    reason = _reason(steps[index], outcome[index])
                    failures.append(StepFailed(index, steps[index], reason))
                else:
                    done(index)
            batch.clear()

        for index, step in enumerate(steps):
            if failures and not keep_going:
                break
            direct = s.AddNetns | s.DelNetns | s.SetSysctl | s.AddTuntap
            if isinstance(step, direct | s.LoadRuleset | s.FlushRuleset):
                flush()
                if failures and not keep_going:
                    break
                try:
                    self._direct(step, lab)
                    done(index)
                except OSError as exc:
                    if step.removes and exc.errno in GONE:
                        done(index)
                    else:
                        failures.append(StepFailed(index, step, exc.strerror or str(exc)))
                continue
            ns = _namespace_of(step)
            if ns != batch_ns:
                flush()
                batch_ns = ns
            self._deferred = []
            try:
                requests = self._requests(step, lab, flush)
            except LookupError:  # a device the step names is not there
                if step.removes:
                    done(index)
                else:
                    failures.append(StepFailed(index, step, os.strerror(errno.ENODEV)))
                continue
            except OSError as exc:  # e.g. EMFILE opening a namespace: a failed step
                failures.append(StepFailed(index, step, exc.strerror or str(exc)))
                continue
            batch.append((index, requests, self._deferred))
        flush()
        return sorted(failures, key=lambda f: f.index)

    def _direct(self, step: Step, lab: str) -> None:
        """Steps netlink cannot do: namespaces, sysctls, tun/tap."""
        if isinstance(step, s.AddNetns):
            tag = tag_for(lab)

            def tag_lo(sock: Rtnl) -> None:
                code = sock.run([rtnl.set_link("lo", IFLA_IFALIAS=tag)])[0]
                if code:
                    raise OSError(code, "tagging lo")

            self._keep(step.name, self.worker.create_here(step.name, tag_lo))
        elif isinstance(step, s.DelNetns):
            self._forget(step.name)
            self.worker.delete(step.name)
        elif isinstance(step, s.SetSysctl):
            self.worker.inside_here(step.ns, lambda: _write_sysctl(step.key, step.value))
        elif isinstance(step, s.LoadRuleset | s.FlushRuleset):
            self._nft(step, lab)
        elif isinstance(step, s.AddTuntap):
            make = lambda: _make_tuntap(step.name, step.mode)  # noqa: E731
            make() if step.ns is None else self.worker.inside_here(step.ns, make)
            code = self._socket(step.ns).run([rtnl.set_link(step.name, IFLA_IFALIAS=tag_for(lab))])
            if code[0]:
                raise OSError(code[0], "tagging the tun/tap device")
            self._indexes.pop(step.ns, None)

    def _nft(self, step: s.LoadRuleset | s.FlushRuleset, lab: str) -> None:
        where = None if step.ns is None else self.run_dir / step.ns
        if isinstance(step, s.FlushRuleset):
            if step.ns is None:
                nft.load(None, nftables.host_table_removal(lab))
            else:
                nft.run(where, ["flush", "ruleset"])
            return
        try:
            nft.load(where, step.text)
        except nft.NftFailed as exc:
            if step.ns is None or not exc.errors:
                raise
            first = exc.errors[0].in_firewall()
            raise OSError(errno.EINVAL, f"the firewall's line {first.line}:{first.col}: "
                          f"{first.message}") from None  # fmt: skip

    def _requests(self, step: Step, lab: str, flush: Callable[[], None]) -> list[Request]:
        gone = GONE if step.removes else frozenset()
        match step:
            case s.AddVeth():
                return self._veth(step, lab, flush)
            case s.AddBridge(ns, name, mtu, mac):
                self._indexes.pop(ns, None)
                return [
                    rtnl.new_bridge(name, mtu, mac),
                    rtnl.set_link(name, IFLA_IFALIAS=tag_for(lab)),
                ]
            case s.DelLink(_, name):
                self._indexes.clear()  # a veth takes its peer, wherever it is
                return [rtnl.del_link(name, gone)]
            case s.SetMtu(_, name, mtu):
                return [rtnl.set_link(name, IFLA_MTU=mtu)]
            case s.SetMac(_, name, mac):
                return [rtnl.set_link(name, IFLA_ADDRESS=mac)]
            case s.SetState(_, name, up):
                return [rtnl.set_link(name, up=up)]
            case s.SetMaster(ns, name, master):
                target = self._index(ns, master, flush) if master else 0
                return [rtnl.set_link(name, IFLA_MASTER=target)]
            case s.AddAddress(ns, dev, text) | s.DelAddress(ns, dev, text):
                iface = ipaddress.ip_interface(text)
                return [
                    rtnl.address(
                        isinstance(step, s.AddAddress),
                        self._index(ns, dev, flush),
                        str(iface.ip),
                        iface.network.prefixlen,
                        iface.version,
                        gone,
                    )
                ]
            case s.SetNetem(ns, name, netem):
                return [qdisc.replace_netem(self._index(ns, name, flush), values(netem))]
            case s.DelNetem(ns, name):
                return [qdisc.delete_root(self._index(ns, name, flush), gone)]
            case s.AddRoute(ns, r) | s.DelRoute(ns, r):
                version = s.route_family(r)
                net = None if r.to == "default" else ipaddress.ip_network(r.to)
                oif = self._index(ns, r.dev, flush) if r.dev else None
                return [
                    rtnl.route(
                        isinstance(step, s.AddRoute),
                        version,
                        str(net.network_address) if net else None,
                        net.prefixlen if net else 0,
                        r.via,
                        oif,
                        r.metric,
                        gone,
                    )
                ]
        raise AssertionError(f"no netlink mapping for {step!r}")

    def _veth(self, step: s.AddVeth, lab: str, flush: Callable[[], None]) -> list[Request]:
        (where, name, mac), (peer_ns, peer, peer_mac) = _veth_sides(step)
        tag = tag_for(lab)
        self._indexes.pop(where, None)
        self._indexes.pop(peer_ns, None)
        create = rtnl.new_veth(name, peer, None, step.mtu, mac, peer_mac)
        if peer_ns == where:
            return [create, rtnl.set_link(name, IFLA_IFALIAS=tag),
                    rtnl.set_link(peer, IFLA_IFALIAS=tag)]  # fmt: skip
        if peer_ns is None and name != peer:
            # Bound for the host: tagged here, inside the lab's namespace, then moved out,
            # so a crash never leaves an untagged device in the host.
            return [create, rtnl.set_link(name, IFLA_IFALIAS=tag),
                    rtnl.set_link(peer, IFLA_IFALIAS=tag),
                    rtnl.set_link(peer, IFLA_NET_NS_FD=self.worker.home_fd)]  # fmt: skip
        if peer_ns is not None and peer_ns not in self._fds and len(self._fds) >= OPEN_AT_ONCE:
            flush()  # the batch's requests carry these fds: send them, then close them
            self._close_fds()
        target = self.worker.home_fd if peer_ns is None else self._ns_fd(peer_ns)
        create = rtnl.new_veth(name, peer, target, step.mtu, mac, peer_mac)
        self._deferred.append((peer_ns, rtnl.set_link(peer, IFLA_IFALIAS=tag)))
        return [create, rtnl.set_link(name, IFLA_IFALIAS=tag)]

    # -- namespaces and indexes (worker thread) --------------------------------------------
    def _socket(self, ns: Namespace) -> Rtnl:
        if ns is None:
            return self._home
        sock = self._sockets.get(ns)
        if sock is None:
            return self._keep(ns, self.worker.open_here(ns))
        self._sockets.move_to_end(ns)
        return sock

    def _keep(self, ns: str, sock: Rtnl) -> Rtnl:
        self._sockets[ns] = sock
        while len(self._sockets) > OPEN_AT_ONCE:
            self._sockets.popitem(last=False)[1].close()
        return sock

    def _ns_fd(self, ns: str) -> int:
        fd = self._fds.get(ns)
        if fd is None:
            fd = self._fds[ns] = os.open(self.run_dir / ns, os.O_RDONLY)
        return fd

    def _forget(self, ns: str) -> None:
        sock = self._sockets.pop(ns, None)
        if sock is not None:
            sock.close()
        fd = self._fds.pop(ns, None)
        if fd is not None:
            os.close(fd)
        self._indexes.clear()

    def _index(self, ns: Namespace, name: str, flush: Callable[[], None]) -> int:
        known = self._indexes.get(ns)
        if known is None or name not in known:
            flush()  # earlier requests may create the device
            known = self._indexes[ns] = {link.name: link.index for link in self._socket(ns).links()}
        if name not in known:
            raise LookupError(name)
        return known[name]

    # -- reading ------------------------------------------------------------------------------
    def links_in(self, ns: Namespace) -> list[LinkInfo]:
        return self._run(lambda: self._socket(ns).links())

    def root_qdiscs_in(self, ns: Namespace) -> dict[str, qdisc.RootQdisc]:
        """Each interface's root qdisc, by interface name."""
        return self.links_and_qdiscs_in(ns)[1]

    def links_and_qdiscs_in(
        self, ns: Namespace
    ) -> tuple[list[LinkInfo], dict[str, qdisc.RootQdisc]]:
        """The links and each one's root qdisc (by name), through one socket."""

        def read() -> tuple[list[LinkInfo], dict[str, qdisc.RootQdisc]]:
            sock = self._socket(ns)
            links = sock.links()
            names = {link.index: link.name for link in links}
            roots = {names[i]: q for i, q in qdisc.root_qdiscs(sock).items() if i in names}
            return links, roots

        return self._run(read)

    def addresses_in(self, ns: Namespace) -> list[AddrInfo]:
        return self._run(lambda: self._socket(ns).addresses())

    def observe(self, namespaces: list[Namespace]) -> dict[Namespace, Observed]:
        """Links, addresses and routes of each namespace, in one pass on the worker; a
        namespace that cannot be read (gone, EMFILE) is left out: not read, not "empty"."""

        def read() -> dict[Namespace, Observed]:
            found: dict[Namespace, Observed] = {}
            for ns in namespaces:
                try:
                    sock = self._socket(ns)
                    found[ns] = Observed(sock.links(), sock.addresses(), sock.routes())
                except OSError:
                    continue
            return found

        return self._run(read)

    def fdb_of(self, ns: Namespace, bridge: str, tag: str | None = None) -> list[dict[str, Any]]:
        """The forwarding database of one bridge, ports by name, as `bridge fdb` shows it;
        with `tag`, only if the bridge read in the same dump carries it."""

        def read() -> tuple[list[LinkInfo], list[FdbEntry]]:
            sock = self._socket(ns)
            return sock.links(), sock.fdb()

        links, entries = self._run(read)
        names = {link.index: link.name for link in links}
        found = next((link for link in links if link.name == bridge), None)
        if found is None or (tag is not None and found.alias != tag):
            raise LookupError(bridge if found is None else f"{bridge} is not tagged {tag}")
        index = found.index
        rows = [
            {
                "mac": entry.mac,
                "port": names.get(entry.port, str(entry.port)),
                "vlan": entry.vlan,
                "local": entry.local,
                "static": entry.static,
                "age_s": entry.age_s,
            }
            for entry in entries
            if entry.master == index or (entry.port == index and entry.master is None)
        ]
        return sorted(rows, key=lambda r: (r["local"], r["port"], r["mac"]))

    def host_view(self) -> HostView:
        """Every route of the host's main table and every address of its interfaces
        (what a lab's host node must not overlap)."""

        def read() -> HostView:
            sock = self._socket(None)
            names = {link.index: link.name for link in sock.links()}
            entries = []
            for addr in sock.addresses():
                device = names.get(addr.index)
                network = ipaddress.ip_interface(addr.cidr).network
                entries.append(HostEntry(network, device, f"the host's address {addr.cidr} "
                                         f"on {device}"))  # fmt: skip
            for msg in sock.dump(rtmsg, rtnl.RTM_GETROUTE):
                if msg.get_attr("RTA_TABLE", msg["table"]) != rtnl.RT_TABLE_MAIN:
                    continue
                dst = msg.get_attr("RTA_DST") or ("0.0.0.0" if msg["family"] == 2 else "::")
                network = ipaddress.ip_network(f"{dst}/{msg['dst_len']}", strict=False)
                device = names.get(msg.get_attr("RTA_OIF"))
                where = f" dev {device}" if device else ""
                entries.append(HostEntry(network, device, f"the host's route to {network}{where}"))
            return HostView(tuple(entries))

        return self._run(read)

    def tag_of_device(self, ns: Namespace, name: str) -> str | None:
        """The ifalias of a device, or None if it does not exist or has none."""
        return next((link.alias for link in self.links_in(ns) if link.name == name), None)

    def device_exists(self, ns: Namespace, name: str) -> bool:
        return any(link.name == name for link in self.links_in(ns))

    def namespace_tag(self, name: str) -> str | None:
        """The tag on a namespace's lo, or None if it is not one nstopo finished making.
        Raises OSError when it cannot read it: a read error never means "untagged"."""
        if not (self.run_dir / name).exists():
            return None
        try:
            return self.tag_of_device(name, "lo")
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT):
                return None  # an empty file (a creation that never finished), or gone
            raise  # it could not tell (EMFILE, ENOMEM, ...): never "not ours"


def _run_or_errno(send: Callable[[], list[int]], count: int) -> list[int]:
    """The requests' errnos; if the socket itself fails (EMFILE opening it, ...), that
    errno for each: a failure of those steps, never an exception past the rollback."""
    try:
        return send()
    except OSError as exc:
        return [exc.errno or errno.EIO] * count


def _reason(step: Step, code: int) -> str:
    if isinstance(step, s.SetNetem) and code == errno.ENOENT:
        return (
            "this kernel has no netem qdisc (sch_netem); load it (modprobe sch_netem) or "
            "use a kernel built with CONFIG_NET_SCH_NETEM, or drop the netem keys"
        )
    return os.strerror(code)


def _namespace_of(step: Step) -> Namespace:
    """The namespace whose socket carries the step's requests."""
    if isinstance(step, s.AddVeth):
        return _veth_sides(step)[0][0]
    return getattr(step, "ns", None)


def _veth_sides(step: s.AddVeth) -> list[tuple[Namespace, str, str | None]]:
    """(namespace, name, mac) of the end to build from, then of the end to place.
    A pair with a host end is built from its namespace side; the host end moves out."""
    ends = [(step.ns, step.name, step.mac), (step.peer_ns, step.peer, step.peer_mac)]
    if ends[0][0] is None and ends[1][0] is not None:
        ends.reverse()
    return ends


def _make_tuntap(name: str, mode: str) -> None:
    flags = (IFF_TAP if mode == "tap" else IFF_TUN) | IFF_NO_PI
    fd = os.open("/dev/net/tun", os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
        fcntl.ioctl(fd, TUNSETPERSIST, 1)
    finally:
        os.close(fd)


def _write_sysctl(key: str, value: str) -> None:
    # /proc/sys/net follows the namespace of the thread that opens the file.
    with open("/proc/sys/" + key.replace(".", "/"), "w") as out:
        out.write(value)
