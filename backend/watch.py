"""Live state for subscribers: link/address events and interface counters.

One watcher per watched namespace: it subscribes to the kernel's link and address
groups first, then dumps (so nothing falls between the two), then streams. If the
socket overflows (ENOBUFS: events were lost) it dumps again and says so (`resync`).
In the host namespace only the lab's own devices are reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyroute2.netlink.rtnl import (
    RTM_DELADDR,
    RTM_DELLINK,
    RTMGRP_IPV4_IFADDR,
    RTMGRP_IPV6_IFADDR,
    RTMGRP_LINK,
    RTMGRP_TC,
)

from . import rtnl
from .qdisc import RootQdisc, decode_root_events
from .qdiscsync import qdisc_json
from .realizer import Realizer
from .registry import Registry

log = logging.getLogger("nstopo.helper")
GROUPS = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_TC  # TC: root qdiscs
Emit = Callable[[str, str, dict[str, Any]], None]  # (lab, method, params)
Snapshot = tuple[list[rtnl.LinkInfo], list[rtnl.AddrInfo], dict[str, RootQdisc]]


class NamespaceWatcher:
    def __init__(
        self,
        realizer: Realizer,
        lab: str,
        ns: str | None,
        emit: Emit,
        only: Callable[[], set[str]] | None = None,
    ) -> None:
        self.realizer, self.lab, self.ns, self.emit = realizer, lab, ns, emit
        self.only = only  # host namespace: the names the lab owns there
        self.names: dict[int, str] = {}
        self.links: dict[int, rtnl.LinkInfo] = {}  # to report a link again when its qdisc changes
        self.roots: dict[str, RootQdisc | None] = {}  # root qdisc by interface name
        self.sock: socket.socket | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.resyncs = 0
        self._resyncing: asyncio.Task[None] | None = None

    def open(self) -> None:
        """Subscribe to the kernel's events (blocking: call it in a thread)."""
        worker = self.realizer.worker
        if self.ns is None:
            self.sock = worker.run(rtnl.open_events, GROUPS)
        else:
            self.sock = worker.call_inside(self.ns, lambda: rtnl.open_events(GROUPS))

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start reading events on the loop (after open(), and after the first dump)."""
        assert self.sock is not None
        self.loop = loop
        loop.add_reader(self.sock.fileno(), self._readable)

    def close(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.sock is not None:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None

    def _wanted(self, name: str) -> bool:
        return self.only is None or name in self.only()

    def snapshot(self) -> Snapshot | None:
        """The namespace's links and addresses (blocking: call it in a thread);
        None if the namespace is gone (its lab's destroy stops this watcher)."""
        try:
            links, roots = self.realizer.links_and_qdiscs_in(self.ns)
            return links, self.realizer.addresses_in(self.ns), roots
        except OSError:
            return None

    def publish(self, snapshot: Snapshot | None, to: Emit | None = None) -> None:
        """Report a whole state as `resync` events (on the loop); `to`: only to one
        new listener instead of everyone."""
        if snapshot is None:
            return
        links, addresses, roots = snapshot
        self.names = {link.index: link.name for link in links}
        self.links = {link.index: link for link in links}
        self.roots = dict(roots)
        for link in links:
            if self._wanted(link.name):
                self._link_event("new", link, resync=True, to=to)
        for addr in addresses:
            name = self.names.get(addr.index)
            if name is not None and self._wanted(name):
                self._addr_event("new", name, addr.cidr, resync=True, to=to)

    async def _resync(self) -> None:
        """After lost events: dump again in a thread, never on the event loop."""
        self.resyncs += 1
        snapshot = await asyncio.to_thread(self.snapshot)
        if self.sock is not None:
            self.publish(snapshot)
        self._resyncing = None

    def _readable(self) -> None:
        assert self.sock is not None
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    if self._resyncing is None and self.loop is not None:
                        log.warning("events lost in %s: re-reading its state", self.ns or "host")
                        self._resyncing = self.loop.create_task(self._resync())
                    continue
                return  # the socket is closing
            self._qdisc_events(data)
            for kind, info in rtnl.decode_events(data):
                if isinstance(info, rtnl.AddrInfo):
                    name = self.names.get(info.index)
                    if name is not None and self._wanted(name):
                        self._addr_event("del" if kind == RTM_DELADDR else "new", name, info.cidr)
                    continue
                link = info
                if kind == RTM_DELLINK:
                    self.names.pop(link.index, None)
                    self.links.pop(link.index, None)
                else:
                    self.names[link.index] = link.name
                    self.links[link.index] = link
                if self._wanted(link.name):
                    self._link_event("del" if kind == RTM_DELLINK else "new", link)

    def _qdisc_events(self, data: bytes) -> None:
        """A root qdisc set or deleted (by apply, or by hand with tc): the link again,
        with its new `qdisc` and `netem`."""
        for added, root in decode_root_events(data):
            link = self.links.get(root.index)
            if link is None:
                continue
            self.roots[link.name] = root if added else None
            if self._wanted(link.name):
                self._link_event("new", link)

    def _link_event(
        self, event: str, link: rtnl.LinkInfo, resync: bool = False, to: Emit | None = None
    ) -> None:
        params = {
            "lab": self.lab,
            "namespace": self.ns,
            "change": event,
            "resync": resync,
            "time": time.time(),
            **link.to_json(),
            **qdisc_json(self.roots.get(link.name)),
        }
        params["master"] = self.names.get(link.master) if link.master else None
        (to or self.emit)(self.lab, "link.changed", params)

    def _addr_event(
        self, event: str, name: str, cidr: str, resync: bool = False, to: Emit | None = None
    ) -> None:
        (to or self.emit)(
            self.lab,
            "addr.changed",
            {
                "lab": self.lab,
                "namespace": self.ns,
                "interface": name,
                "address": cidr,
                "change": event,
                "resync": resync,
            },
        )


@dataclass
class EventHub:
    """Who listens to which lab, and the watchers that serve them."""

    realizer: Realizer
    registry: Registry
    loop: asyncio.AbstractEventLoop
    watchers: dict[tuple[str, str | None], NamespaceWatcher] = field(default_factory=dict)
    listeners: dict[int, tuple[Callable[[str, Any], bool], str | None]] = field(
        default_factory=dict
    )
    # A listener's never-dropped notifier, for whole states (a new watcher's first dump).
    wholes: dict[int, Callable[[str, Any], bool]] = field(default_factory=dict)
    _refreshing: asyncio.Lock = field(default_factory=asyncio.Lock)

    def emit(self, lab: str, method: str, params: dict[str, Any]) -> None:
        for notify, wanted in list(self.listeners.values()):
            if wanted is None or wanted == lab:
                notify(method, params)

    async def subscribe(
        self,
        key: int,
        notify: Callable[[str, Any], bool],
        lab: str | None,
        whole: Callable[[str, Any], bool] | None = None,
    ) -> None:
        """A new listener gets the current state at once (`resync`, through `whole`:
        never dropped, so it arrives complete), then every change."""
        first = whole or notify
        self.listeners[key] = (notify, lab)
        self.wholes[key] = first
        started = await self.refresh(to=(key, first))
        for watcher_key, watcher in list(self.watchers.items()):
            if watcher_key in started or (lab is not None and watcher_key[0] != lab):
                continue
            snapshot = await asyncio.to_thread(watcher.snapshot)
            if key in self.listeners:
                watcher.publish(snapshot, to=lambda _lab, method, params: first(method, params))

    async def unsubscribe(self, key: int) -> None:
        self.listeners.pop(key, None)
        self.wholes.pop(key, None)
        await self.refresh()

    def drop(self, key: int) -> None:
        """A listener whose connection ended: forget it now, close idle watchers."""
        self.listeners.pop(key, None)
        self.wholes.pop(key, None)
        self.close_unwanted()

    def _wanted(self) -> dict[tuple[str, str | None], Callable[[], set[str]] | None]:
        wanted_labs = {lab for _, lab in self.listeners.values()}
        labs = set(self.registry.labs) if None in wanted_labs else wanted_labs
        wanted: dict[tuple[str, str | None], Callable[[], set[str]] | None] = {}
        for lab in labs:
            record = self.registry.labs.get(lab)
            if record is None:
                continue
            for ns in record.namespaces:
                wanted[(lab, ns)] = None
            if record.host_devices:
                wanted[(lab, None)] = lambda r=record: set(r.host_devices)
        return wanted

    def close_unwanted(self) -> None:
        wanted = self._wanted()
        for key in [k for k in self.watchers if k not in wanted]:
            self.watchers.pop(key).close(self.loop)

    async def refresh(
        self, to: tuple[int, Callable[[str, Any], bool]] | None = None
    ) -> set[tuple[str, str | None]]:
        """Watch exactly the namespaces of labs someone listens to (after subscribe,
        unsubscribe, apply and destroy). New watchers open and dump in a thread; their
        first state goes to every listener of their lab (to `to` through its own
        notifier). Returns the watchers it started."""
        async with self._refreshing:
            self.close_unwanted()
            started: set[tuple[str, str | None]] = set()
            for key, only in self._wanted().items():
                if key in self.watchers:
                    continue
                watcher = NamespaceWatcher(self.realizer, key[0], key[1], self.emit, only)
                try:
                    await asyncio.to_thread(watcher.open)
                except OSError as exc:
                    log.warning("cannot watch %s: %s", key[1] or "host", exc)
                    continue
                snapshot = await asyncio.to_thread(watcher.snapshot)
                if key not in self._wanted():  # unsubscribed or destroyed meanwhile
                    watcher.close(self.loop)
                    continue
                watcher.start(self.loop)
                self.watchers[key] = watcher
                started.add(key)
                for listener, (_, lab) in list(self.listeners.items()):
                    if lab is None or lab == key[0]:
                        # Whole or not at all: after a big apply the progress events
                        # fill the outbox, and a dropped first state stayed "missing".
                        send = to[1] if to is not None and to[0] == listener else None
                        send = send or self.wholes[listener]
                        watcher.publish(snapshot, to=lambda _l, m, p, send=send: send(m, p))
            return started


async def stream_counters(
    realizer: Realizer,
    registry: Registry,
    lab: str,
    interval: float,
    notify: Callable[[str, Any], bool],
) -> None:
    """Every `interval` seconds: rx/tx bytes and packets of every interface of the lab."""
    while True:
        record = registry.labs.get(lab)
        if record is None:
            return
        sample = []
        for ns in [*record.namespaces, None]:
            try:
                links = await asyncio.to_thread(realizer.links_in, ns)
            except OSError:
                continue
            for link in links:
                if link.name == "lo" or (ns is None and link.name not in record.host_devices):
                    continue
                sample.append(
                    {
                        "namespace": ns,
                        "name": link.name,
                        "rx_bytes": link.rx_bytes,
                        "tx_bytes": link.tx_bytes,
                        "rx_packets": link.rx_packets,
                        "tx_packets": link.tx_packets,
                    }
                )
        notify("counters", {"lab": lab, "time": time.time(), "interfaces": sample})
        await asyncio.sleep(interval)
