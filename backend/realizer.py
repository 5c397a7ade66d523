"""Execute plan steps on the kernel over netlink (pyroute2), on the namespace worker.

Every interface nstopo creates is tagged with the ifalias `nstopo:<lab>`; every
namespace it creates has that tag on its `lo`, set before the namespace gets its
name. Deleting steps treat "already gone" as done, so rollback and destroy can be
repeated safely.
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import os
import struct
from pathlib import Path

from nstopo.model import steps as s
from nstopo.model.steps import Step
from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl.ifaddrmsg import IFA_F_NODAD

from .netns import NETNS_RUN_DIR, NamespaceWorker

TAG_PREFIX = "nstopo:"
_GONE = {errno.ENODEV, errno.ENOENT, errno.EADDRNOTAVAIL, errno.ESRCH}
TUNSETIFF, TUNSETPERSIST = 0x400454CA, 0x400454CB
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000


def tag_for(lab: str) -> str:
    return f"{TAG_PREFIX}{lab}"


class StepFailed(Exception):
    def __init__(self, step: Step, reason: str) -> None:
        super().__init__(f"{step.command()}: {reason}")
        self.step, self.reason = step, reason


class Realizer:
    """Turns steps into netlink calls. All methods run on the caller's thread and
    submit their work to the worker thread that owns the netlink handles."""

    def __init__(self, worker: NamespaceWorker | None = None, run_dir: Path = NETNS_RUN_DIR):
        self.worker = worker or NamespaceWorker(run_dir)
        self.run_dir = self.worker.run_dir
        self._handles: dict[str | None, IPRoute] = {None: self.worker.home_handle()}

    def close(self) -> None:
        for handle in self._handles.values():
            self.worker.run(handle.close)
        self._handles.clear()
        self.worker.close()

    # -- public ---------------------------------------------------------------------------
    def execute(self, step: Step, lab: str) -> None:
        """Carry out one step; raise StepFailed with the kernel's reason."""
        try:
            if isinstance(step, s.AddNetns):
                self._add_netns(step.name, lab)
            elif isinstance(step, s.DelNetns):
                self._del_netns(step.name)
            elif isinstance(step, s.SetSysctl):
                self.worker.call_inside(step.ns, lambda: _write_sysctl(step.key, step.value))
            elif isinstance(step, s.AddTuntap):
                self._add_tuntap(step, lab)
            else:
                self.worker.run(self._netlink_step, step, lab)
        except NetlinkError as exc:
            if step.removes and exc.code in _GONE:
                return
            raise StepFailed(step, os.strerror(exc.code)) from None
        except OSError as exc:
            if step.removes and exc.errno in _GONE:
                return
            raise StepFailed(step, exc.strerror or str(exc)) from None

    def tag_of_device(self, ns: str | None, name: str) -> str | None:
        """The ifalias of a device, or None if it does not exist or has none."""
        return self.worker.run(self._alias, ns, name)

    def namespace_tag(self, name: str) -> str | None:
        """The tag on a namespace's lo, or None if it is not a namespace nstopo made."""
        if not (self.run_dir / name).exists():
            return None
        try:
            return self.worker.run(self._alias, name, "lo")
        except OSError:
            return None  # an empty file: a namespace whose creation never finished

    def device_exists(self, ns: str | None, name: str) -> bool:
        return self.worker.run(lambda: bool(self._handle(ns).link_lookup(ifname=name)))

    def links_in(self, ns: str | None) -> list[dict[str, object]]:
        """Name, kind, oper state and tag of every interface in a namespace."""

        def read() -> list[dict[str, object]]:
            out = []
            for link in self._handle(ns).get_links():
                info = link.get_attr("IFLA_LINKINFO")
                out.append({
                    "name": link.get_attr("IFLA_IFNAME"),
                    "kind": info.get_attr("IFLA_INFO_KIND") if info else None,
                    "oper": link.get_attr("IFLA_OPERSTATE"),
                    "tag": link.get_attr("IFLA_IFALIAS"),
                })  # fmt: skip
            return out

        return self.worker.run(read)

    def forget_namespace(self, name: str) -> None:
        handle = self._handles.pop(name, None)
        if handle is not None:
            self.worker.run(handle.close)

    # -- on the worker thread -------------------------------------------------------------
    def _handle(self, ns: str | None) -> IPRoute:
        handle = self._handles.get(ns)
        if handle is None:
            assert ns is not None
            handle = self._handles[ns] = self.worker._open(ns)  # already on the worker
        return handle

    def _index(self, ns: str | None, name: str) -> int:
        found = self._handle(ns).link_lookup(ifname=name)
        if not found:
            raise NetlinkError(errno.ENODEV)
        return found[0]

    def _alias(self, ns: str | None, name: str) -> str | None:
        handle = self._handle(ns)
        found = handle.link_lookup(ifname=name)
        if not found:
            return None
        return handle.get_links(found[0])[0].get_attr("IFLA_IFALIAS")

    def _tag(self, ns: str | None, name: str, lab: str) -> None:
        self._handle(ns).link("set", index=self._index(ns, name), ifalias=tag_for(lab))

    def _add_netns(self, name: str, lab: str) -> None:
        def tag_lo(handle: IPRoute) -> None:
            handle.link("set", index=handle.link_lookup(ifname="lo")[0], ifalias=tag_for(lab))

        self._handles[name] = self.worker.create(name, tag_lo)

    def _del_netns(self, name: str) -> None:
        self.forget_namespace(name)
        self.worker.delete(name)

    def _add_tuntap(self, step: s.AddTuntap, lab: str) -> None:
        def make() -> None:
            flags = (IFF_TAP if step.mode == "tap" else IFF_TUN) | IFF_NO_PI
            fd = os.open("/dev/net/tun", os.O_RDWR)
            try:
                fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", step.name.encode(), flags))
                fcntl.ioctl(fd, TUNSETPERSIST, 1)
            finally:
                os.close(fd)

        if step.ns is None:
            self.worker.run(make)
        else:
            self.worker.call_inside(step.ns, make)
        self.worker.run(self._tag, step.ns, step.name, lab)

    def _netlink_step(self, step: Step, lab: str) -> None:
        match step:
            case s.AddVeth():
                self._add_veth(step, lab)
            case s.AddBridge(ns, name, mtu, mac):
                attrs = {k: v for k, v in (("mtu", mtu), ("address", mac)) if v}
                self._handle(ns).link("add", ifname=name, kind="bridge", **attrs)
                self._tag(ns, name, lab)
            case s.DelLink(ns, name):
                self._handle(ns).link("del", index=self._index(ns, name))
            case s.SetMtu(ns, name, mtu):
                self._handle(ns).link("set", index=self._index(ns, name), mtu=mtu)
            case s.SetMac(ns, name, mac):
                self._handle(ns).link("set", index=self._index(ns, name), address=mac)
            case s.SetState(ns, name, up):
                self._handle(ns).link("set", index=self._index(ns, name),
                                      state="up" if up else "down")  # fmt: skip
            case s.SetMaster(ns, name, master):
                target = self._index(ns, master) if master else 0
                self._handle(ns).link("set", index=self._index(ns, name), master=target)
            case s.AddAddress(ns, dev, address) | s.DelAddress(ns, dev, address):
                iface = ipaddress.ip_interface(address)
                extra = {"flags": IFA_F_NODAD} if iface.version == 6 else {}
                self._handle(ns).addr("add" if isinstance(step, s.AddAddress) else "del",
                                      index=self._index(ns, dev), address=str(iface.ip),
                                      prefixlen=iface.network.prefixlen, **extra)  # fmt: skip
            case s.AddRoute(ns, route) | s.DelRoute(ns, route):
                spec: dict[str, object] = {"dst": route.to if route.to != "default" else None}
                family = 6 if ":" in (route.via or route.to) else 4
                spec["family"] = 10 if family == 6 else 2
                if spec["dst"] is None:
                    spec["dst"] = "::/0" if family == 6 else "0.0.0.0/0"
                if route.via:
                    spec["gateway"] = route.via
                if route.dev:
                    spec["oif"] = self._index(ns, route.dev)
                if route.metric is not None:
                    spec["priority"] = route.metric
                self._handle(ns).route("add" if isinstance(step, s.AddRoute) else "del", **spec)
            case _:
                raise AssertionError(f"no netlink mapping for {step!r}")

    def _add_veth(self, step: s.AddVeth, lab: str) -> None:
        """Create a pair with its peer placed directly. An end bound for the host
        namespace is made inside the lab namespace, tagged, then moved out, so a
        crash never leaves an untagged device in the host (inside a lab namespace
        everything is the lab's)."""
        ends = [(step.ns, step.name, step.mac), (step.peer_ns, step.peer, step.peer_mac)]
        if ends[0][0] is None and ends[1][0] is not None:
            ends.reverse()  # build from the namespace side
        (where, name, mac), (peer_ns, peer, peer_mac) = ends
        common = {"mtu": step.mtu} if step.mtu else {}
        peer_spec: dict[str, object] = {"ifname": peer, **common}
        if peer_mac:
            peer_spec["address"] = peer_mac
        if peer_ns is not None and peer_ns != where:
            peer_spec["net_ns_fd"] = peer_ns
        handle = self._handle(where)
        handle.link("add", ifname=name, kind="veth", peer=peer_spec, **common,
                    **({"address": mac} if mac else {}))  # fmt: skip
        self._tag(where, name, lab)
        if peer_ns is None and where is not None:
            self._tag(where, peer, lab)
            handle.link("set", index=self._index(where, peer), net_ns_pid=os.getpid())
        else:
            self._tag(peer_ns, peer, lab)


def _write_sysctl(key: str, value: str) -> None:
    # /proc/sys/net follows the namespace of the thread that opens the file.
    with open("/proc/sys/" + key.replace(".", "/"), "w") as out:
        out.write(value)
