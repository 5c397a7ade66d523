"""Packet capture on one interface of a lab: an AF_PACKET socket opened inside the
interface's namespace, filtered in the kernel (bpf.py), decoded per packet (packets.py).

Packets stream to the client as notifications; the client's bounded outgoing queue
drops (and counts) what it cannot keep, so a slow client never grows the helper.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import bpf
from .packets import describe

ETH_P_ALL = 0x0003
SOL_PACKET, PACKET_STATISTICS = 263, 6
PACKET_OUTGOING = 4


def open_socket(interface: str, expression: str, ethernet: bool) -> socket.socket:
    """Call inside the interface's namespace. Protocol 0 receives nothing; binding with
    ETH_P_ALL starts reception, after the filter is attached, so no unfiltered frame
    (from any interface) is queued in between."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        bpf.attach(sock, expression, bpf.LINKTYPE_ETHERNET if ethernet else bpf.LINKTYPE_RAW)
        sock.bind((interface, ETH_P_ALL))  # CPython applies htons() here itself
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


@dataclass
class Capture:
    ident: int
    lab: str
    namespace: str | None
    interface: str
    ethernet: bool
    notify: Callable[[str, dict[str, Any]], bool]
    count: int | None = None
    raw: bool = False
    packets: int = 0
    dropped: int = 0  # packets the client's queue could not take
    sock: socket.socket | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    _timer: asyncio.TimerHandle | None = None

    def start(self, sock: socket.socket, duration: float | None) -> None:
        loop = asyncio.get_running_loop()
        self.sock = sock
        loop.add_reader(sock.fileno(), self._readable)
        if duration is not None:
            self._timer = loop.call_later(duration, self.stop, "duration")

    def _readable(self) -> None:
        assert self.sock is not None
        while self.sock is not None:
            try:
                frame, address = self.sock.recvfrom(65536)
            except BlockingIOError:
                return
            except OSError:  # the interface went away
                self.stop("interface gone")
                return
            self.packets += 1
            info = describe(frame, self.ethernet)
            info.update(
                capture=self.ident,
                time=time.time(),
                interface=self.interface,
                namespace=self.namespace,
                direction="out" if address[2] == PACKET_OUTGOING else "in",
            )
            if self.raw:
                info["data"] = base64.b64encode(frame).decode()
            if not self.notify("capture.packet", info):
                self.dropped += 1
            if self.count is not None and self.packets >= self.count:
                self.stop("count")

    def stop(self, reason: str = "stopped") -> dict[str, Any]:
        kernel_drops = 0
        if self.sock is not None:
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
            stats = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
            kernel_drops = struct.unpack("II", stats)[1]
            self.sock.close()
            self.sock = None
            if self._timer is not None:
                self._timer.cancel()
            result = {
                "capture": self.ident,
                "reason": reason,
                "packets": self.packets,
                "dropped": self.dropped,
                "kernel_dropped": kernel_drops,
            }
            self.notify("capture.end", result)
            self.ended.set()
            return result
        return {
            "capture": self.ident,
            "reason": "already ended",
            "packets": self.packets,
            "dropped": self.dropped,
            "kernel_dropped": 0,
        }
