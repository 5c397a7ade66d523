"""ICMP echo from inside a namespace, with the kernel's own ICMP sockets.

A raw ICMP socket opened inside the source namespace (root needs no ping_group_range)
sends echo requests; replies are matched by id. With IP_RECVERR the kernel reports
its verdicts on the error queue (host unreachable after failed ARP, network
unreachable), which are said in ping's own words.

Round-trip times are measured as iputils ping measures them: from the wall clock just
before the echo is sent to the kernel's receive timestamp of the reply (SO_TIMESTAMPNS),
so the helper's own scheduling (the event loop waking up) is not in them.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import ipaddress
import os
import random
import socket
import statistics
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

IP_RECVERR, IPV6_RECVERR = 11, 25
IPV6_RECVHOPLIMIT, IPV6_HOPLIMIT = 51, 52
SO_BINDTODEVICE = 25
SO_TIMESTAMPNS = SCM_TIMESTAMPNS = 35
SIOCGIFINDEX = 0x8933
SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6 = 2, 3
PAYLOAD = 56  # like ping: 64 bytes of ICMP on the wire

# ICMP destination unreachable codes in ping's words (iputils).
_UNREACH4 = {
    0: "Destination Net Unreachable",
    1: "Destination Host Unreachable",
    2: "Destination Protocol Unreachable",
    3: "Destination Port Unreachable",
    9: "Destination Net Prohibited",
    10: "Destination Host Prohibited",
    13: "Communication prohibited by filter",
}
_UNREACH6 = {
    0: "Destination unreachable: No route",
    1: "Destination unreachable: Administratively prohibited",
    3: "Destination unreachable: Address unreachable",
    4: "Destination unreachable: Port unreachable",
}


class PingError(Exception):
    """Nothing could be sent at all (ping's `connect: ...` errors)."""


@dataclass
class PingRun:
    target: str
    count: int
    interval: float
    timeout: float
    interface: str | None
    notify: Callable[[str, dict[str, Any]], Any]
    ident: int = field(default_factory=lambda: random.randrange(1, 0xFFFF))
    sent: dict[int, int] = field(default_factory=dict)  # seq -> wall clock, ns
    rtts: list[float] = field(default_factory=list)
    errors: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)  # ping.stop: end early

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.target).version


def _destination(sock: socket.socket, target: str) -> tuple:
    """The sendto address; a scoped IPv6 address (`fe80::1%eth0`) names its interface
    in the socket's own namespace, so the index is asked of the socket (an ioctl acts
    in the socket's namespace; if_nametoindex would ask the helper's)."""
    address, _, scope = target.partition("%")
    if not scope:
        return (address, 0)
    try:
        request = struct.pack("16si", scope.encode()[:15], 0)
        index = struct.unpack("16si", fcntl.ioctl(sock.fileno(), SIOCGIFINDEX, request))[1]
    except OSError:
        raise PingError(f"{target}: Name or service not known") from None
    return (address, 0, 0, index)


def open_socket(version: int, interface: str | None) -> socket.socket:
    """A raw ICMP socket in the calling thread's namespace (call it inside one)."""
    if version == 6:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    if interface:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode())
        except OSError:
            sock.close()
            raise PingError(f"SO_BINDTODEVICE {interface}: No such device") from None
    sock.setblocking(False)
    return sock


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _echo(version: int, ident: int, seq: int) -> bytes:
    kind = 128 if version == 6 else 8
    payload = struct.pack("!d", time.time()) + bytes(range(PAYLOAD - 8))
    header = struct.pack("!BBHHH", kind, 0, 0, ident, seq)
    if version == 6:
        return header + payload  # the kernel fills in the ICMPv6 checksum
    return struct.pack("!BBHHH", kind, 0, _checksum(header + payload), ident, seq) + payload


async def run_ping(sock: socket.socket, run: PingRun) -> dict[str, Any]:
    """Send `count` echoes; notify `ping.reply` / `ping.error` per event; summarize."""
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    started = time.monotonic()
    try:
        destination = _destination(sock, run.target)
    except PingError:
        sock.close()
        raise
    loop.add_reader(sock.fileno(), _readable, sock, run, done)
    try:
        for seq in range(1, run.count + 1):
            echo = _echo(run.version, run.ident, seq)
            run.sent[seq] = time.time_ns()  # as late as can be: the kernel stamps the reply
            try:
                sock.sendto(echo, destination)
            except OSError as exc:
                unroutable = exc.errno in (errno.ENETUNREACH, errno.EINVAL, errno.EADDRNOTAVAIL)
                if unroutable and not run.rtts and not run.errors:  # ping: nothing was sent
                    raise PingError(f"connect: {os.strerror(exc.errno)}") from None
                run.errors += 1
                run.notify(
                    "ping.error", {"seq": seq, "from": None, "message": os.strerror(exc.errno)}
                )
            if seq < run.count:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(run.stop.wait(), run.interval)
                if run.stop.is_set():
                    break
        # Wait for the last replies (ping -W), or stop early when all have come back.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_all_answered(run, done), run.timeout)
    finally:
        loop.remove_reader(sock.fileno())
        sock.close()
    received = len(run.rtts)
    summary: dict[str, Any] = {
        "target": run.target,
        "transmitted": len(run.sent),
        "received": received,
        "errors": run.errors,
        "loss": 100.0 * (1 - received / max(len(run.sent), 1)),
        "time_ms": (time.monotonic() - started) * 1000,
    }
    if run.rtts:
        summary.update(
            min=min(run.rtts),
            avg=statistics.fmean(run.rtts),
            max=max(run.rtts),
            mdev=statistics.pstdev(run.rtts),
        )
    return summary


async def _all_answered(run: PingRun, done: asyncio.Event) -> None:
    while len(run.rtts) + run.errors < len(run.sent):
        done.clear()
        await done.wait()


def _readable(sock: socket.socket, run: PingRun, done: asyncio.Event) -> None:
    while True:  # errors first: the kernel's verdicts on our echoes
        try:
            data, ancillary, _, _ = sock.recvmsg(2048, 512, socket.MSG_ERRQUEUE)
        except BlockingIOError:
            break
        _error(run, data, ancillary)
        done.set()
    while True:
        try:
            data, ancillary, _, address = sock.recvmsg(65536, 512)
        except BlockingIOError:
            return
        except OSError:
            return
        _reply(run, data, ancillary, address)
        done.set()


def _reply(run: PingRun, data: bytes, ancillary: list, address: tuple) -> None:
    if run.version == 4:
        header = (data[0] & 0x0F) * 4
        ttl, icmp = data[8], data[header:]
        wanted = 0
    else:
        icmp, wanted = data, 129
        ttl = next(
            (
                struct.unpack("i", d)[0]
                for lvl, kind, d in ancillary
                if lvl == socket.IPPROTO_IPV6 and kind == IPV6_HOPLIMIT
            ),
            0,
        )
    if len(icmp) < 8:
        return
    kind, _, _, ident, seq = struct.unpack("!BBHHH", icmp[:8])
    if kind != wanted or ident != run.ident or seq not in run.sent:
        return
    received = next(
        (
            seconds * 1_000_000_000 + nanoseconds
            for level, what, d in ancillary
            if level == socket.SOL_SOCKET and what == SCM_TIMESTAMPNS and len(d) >= 16
            for seconds, nanoseconds in [struct.unpack_from("=qq", d)]
        ),
        time.time_ns(),
    )
    rtt = max(received - run.sent[seq], 0) / 1e6
    origin = address[0]
    if "%" in run.target:  # Python names the scope in the helper's namespace: use ours
        origin = f"{origin.partition('%')[0]}%{run.target.partition('%')[2]}"
    run.rtts.append(rtt)
    run.notify(
        "ping.reply",
        {
            "seq": seq,
            "ttl": ttl,
            "rtt_ms": round(rtt, 3),
            "from": origin,
            "bytes": len(icmp),
            "time": time.time(),
        },
    )


def _error(run: PingRun, data: bytes, ancillary: list) -> None:
    """A sock_extended_err from the error queue, about one of our echoes."""
    for level, kind, payload in ancillary:
        recverr = (level, kind) in (
            (socket.IPPROTO_IP, IP_RECVERR),
            (socket.IPPROTO_IPV6, IPV6_RECVERR),
        )
        if not recverr or len(payload) < 16:  # e.g. the timestamp that comes along
            continue
        ee_errno, origin, kind, code = struct.unpack_from("=IBBB", payload)
        offender = _offender(payload[16:])
        if len(data) < 8:
            return
        # A raw socket hears the errors about every echo of its family in the
        # namespace (a concurrent ping's too): only ours, by id, count.
        ident, seq = struct.unpack("!HH", data[4:8])
        if ident != run.ident or seq not in run.sent:
            return
        if origin in (SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6):
            words = (
                (_UNREACH6 if origin == SO_EE_ORIGIN_ICMP6 else _UNREACH4).get(code)
                if kind in (1, 3)
                else None
            )
            message = words or f"ICMP type {kind} code {code}"
        else:
            message = os.strerror(ee_errno)
        run.errors += 1
        run.notify("ping.error", {"seq": seq, "from": offender, "message": message})
        return


def _offender(raw: bytes) -> str | None:
    if len(raw) >= 8 and struct.unpack_from("=H", raw)[0] == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, raw[4:8])
    if len(raw) >= 24 and struct.unpack_from("=H", raw)[0] == socket.AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, raw[8:24])
    return None
