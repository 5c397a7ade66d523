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
from .pcapfile import SNAPLEN

ETH_P_ALL = 0x0003
SOL_PACKET, PACKET_STATISTICS, PACKET_AUXDATA = 263, 6, 8
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = SCM_TIMESTAMPNS = 35  # the kernel's receive time, struct timespec
_AUXDATA = struct.Struct("=IIIHHHH")  # struct tpacket_auxdata
_TIMESPEC = struct.Struct("=qq")
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 0x10, 0x40
ETH_P_8021Q = 0x8100
_ANCILLARY_SIZE = socket.CMSG_SPACE(_AUXDATA.size) + socket.CMSG_SPACE(_TIMESPEC.size)


@dataclass(frozen=True)
class Received:
    frame: bytes  # as it was on the wire: a VLAN tag the kernel took off is put back
    time_ns: int  # the kernel's receive timestamp
    length: int  # the frame's length on the wire (may exceed len(frame) if cut)
    outgoing: bool


def receive(sock: socket.socket, ethernet: bool) -> Received:
    """One frame from a packet socket opened by `open_socket`, with the kernel's
    timestamp and its VLAN tag: AF_PACKET hands the tag the driver (or veth's
    offload) took off in PACKET_AUXDATA, not in the frame, so tcpdump puts it back
    and so does this."""
    frame, ancillary, _, address = sock.recvmsg(SNAPLEN, _ANCILLARY_SIZE)
    stamp, length = None, len(frame)
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            stamp = seconds * 1_000_000_000 + nanoseconds
        elif level == SOL_PACKET and kind == PACKET_AUXDATA:
            status, length, _, _, _, tci, tpid = _AUXDATA.unpack_from(data)
            if ethernet and status & TP_STATUS_VLAN_VALID and len(frame) >= 12:
                tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else ETH_P_8021Q
                frame = frame[:12] + struct.pack("!HH", tpid, tci) + frame[12:]
                length += 4
    return Received(
        frame=frame,
        time_ns=stamp if stamp is not None else time.time_ns(),
        length=max(length, len(frame)),
        outgoing=address[2] == PACKET_OUTGOING,
    )


def open_socket(interface: str, expression: str, ethernet: bool) -> socket.socket:
    """Call inside the interface's namespace. Protocol 0 receives nothing; binding with
    ETH_P_ALL starts reception, after the filter is attached, so no unfiltered frame
    (from any interface) is queued in between."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        if ethernet:
            sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
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
                got = receive(self.sock, self.ethernet)
            except BlockingIOError:
                return
            except OSError:  # the interface went away
                self.stop("interface gone")
                return
            self.packets += 1
            info = describe(got.frame, self.ethernet)
            info.update(
                capture=self.ident,
                time=got.time_ns / 1e9,
                time_ns=got.time_ns,
                interface=self.interface,
                namespace=self.namespace,
                direction="out" if got.outgoing else "in",
            )
            if got.length != len(got.frame):
                info["wire_length"] = got.length
            if self.raw:
                info["data"] = base64.b64encode(got.frame).decode()
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
