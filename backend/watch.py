"""Live state for subscribers: link/address events and interface counters.

One watcher per watched namespace: it subscribes to the kernel's link and address
groups first, then dumps (so nothing falls between the two), then streams. If the
socket overflows (ENOBUFS: events were lost) it dumps again and says so (`resync`).
In the host namespace only the lab's own devices are reported.
"""

from __future__ import annotations

import asyncio
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
)

from . import rtnl
from .realizer import Realizer
from .registry import Registry

log = logging.getLogger("nstopo.helper")
GROUPS = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR
Emit = Callable[[str, str, dict[str, Any]], None]  # (lab, method, params)


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
        self.sock: socket.socket | None = None
        self.resyncs = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        worker = self.realizer.worker
        if self.ns is None:
            self.sock = worker.run(rtnl.open_events, GROUPS)
        else:
            self.sock = worker.call_inside(self.ns, lambda: rtnl.open_events(GROUPS))
        loop.add_reader(self.sock.fileno(), self._readable)
        self.resync(initial=True)

    def close(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.sock is not None:
            loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None

    def _wanted(self, name: str) -> bool:
        return self.only is None or name in self.only()

    def resync(self, initial: bool = False, to: Emit | None = None) -> None:
        """Report the whole current state (after subscribing, or after lost events);
        `to`: only to one new listener instead of everyone."""
        if not initial:
            self.resyncs += 1
        try:
            links = self.realizer.links_in(self.ns)
            addresses = self.realizer.addresses_in(self.ns)
        except OSError:
            return  # the namespace is gone; its lab's destroy stops this watcher
        self.names = {link.index: link.name for link in links}
        for link in links:
            if self._wanted(link.name):
                self._link_event("new", link, resync=True, to=to)
        for addr in addresses:
            name = self.names.get(addr.index)
            if name is not None and self._wanted(name):
                self._addr_event("new", name, addr.cidr, resync=True, to=to)

    def _readable(self) -> None:
        assert self.sock is not None
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    log.warning("events lost in %s: re-reading its state", self.ns or "host")
                    self.resync()
                    continue
                raise
            for kind, info in rtnl.decode_events(data):
                if isinstance(info, rtnl.AddrInfo):
                    name = self.names.get(info.index)
                    if name is not None and self._wanted(name):
                        self._addr_event("del" if kind == RTM_DELADDR else "new", name, info.cidr)
                    continue
                link = info
                if kind == RTM_DELLINK:
                    self.names.pop(link.index, None)
                else:
                    self.names[link.index] = link.name
                if self._wanted(link.name):
                    self._link_event("del" if kind == RTM_DELLINK else "new", link)

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

    def emit(self, lab: str, method: str, params: dict[str, Any]) -> None:
        for notify, wanted in list(self.listeners.values()):
            if wanted is None or wanted == lab:
                notify(method, params)

    def subscribe(self, key: int, notify: Callable[[str, Any], bool], lab: str | None) -> None:
        """A new listener gets the current state at once (`resync`), then every change."""
        existing = set(self.watchers)
        self.listeners[key] = (notify, lab)
        self.refresh()  # new watchers dump their state to every listener
        for watcher_key in existing & set(self.watchers):
            if lab is None or watcher_key[0] == lab:
                self.watchers[watcher_key].resync(
                    initial=True, to=lambda _lab, method, params: notify(method, params)
                )

    def unsubscribe(self, key: int) -> None:
        self.listeners.pop(key, None)
        self.refresh()

    def refresh(self) -> None:
        """Watch exactly the namespaces of labs someone listens to (after subscribe,
        unsubscribe, apply and destroy)."""
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
        for key in [k for k in self.watchers if k not in wanted]:
            self.watchers.pop(key).close(self.loop)
        for key, only in wanted.items():
            if key not in self.watchers:
                watcher = NamespaceWatcher(self.realizer, key[0], key[1], self.emit, only)
                try:
                    watcher.start(self.loop)
                except OSError as exc:
                    log.warning("cannot watch %s: %s", key[1] or "host", exc)
                    continue
                self.watchers[key] = watcher


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
