"""Decode captured frames (dpkt) into fields and a tcpdump-style line."""

from __future__ import annotations

import socket
import struct
from typing import Any

import dpkt

_ICMP = {0: "echo reply", 3: "destination unreachable", 8: "echo request", 11: "time exceeded"}
_ICMP6 = {
    128: "echo request",
    129: "echo reply",
    133: "router solicitation",
    134: "router advertisement",
    135: "neighbor solicitation",
    136: "neighbor advertisement",
    1: "destination unreachable",
}
_UNREACH = {0: "net", 1: "host", 3: "port"}


def mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def describe(frame: bytes, ethernet: bool = True) -> dict[str, Any]:
    """Fields the editor colors and animates, plus the line tcpdump would print."""
    out: dict[str, Any] = {
        "length": len(frame),
        "protocol": "other",
        "src_mac": None,
        "dst_mac": None,
        "src_ip": None,
        "dst_ip": None,
    }
    try:
        if ethernet:
            eth = dpkt.ethernet.Ethernet(frame)
            out["src_mac"], out["dst_mac"] = mac(eth.src), mac(eth.dst)
            payload = eth.data
        else:
            payload = (dpkt.ip6.IP6 if frame[:1] and frame[0] >> 4 == 6 else dpkt.ip.IP)(frame)
        out["summary"] = _summary(payload, out)
    except (dpkt.UnpackError, IndexError, ValueError, struct.error):
        out["summary"] = f"truncated or unknown frame, length {len(frame)}"
    return out


def _summary(payload: Any, out: dict[str, Any]) -> str:
    if isinstance(payload, dpkt.arp.ARP):
        out["protocol"] = "arp"
        sender, target = socket.inet_ntoa(payload.spa), socket.inet_ntoa(payload.tpa)
        out["src_ip"], out["dst_ip"] = sender, target
        size = len(bytes(payload))
        if payload.op == dpkt.arp.ARP_OP_REQUEST:
            return f"ARP, Request who-has {target} tell {sender}, length {size}"
        if payload.op == dpkt.arp.ARP_OP_REPLY:
            return f"ARP, Reply {sender} is-at {mac(payload.sha)}, length {size}"
        return f"ARP, op {payload.op}, length {size}"
    if isinstance(payload, dpkt.ip.IP):
        src, dst = socket.inet_ntoa(payload.src), socket.inet_ntoa(payload.dst)
        out["src_ip"], out["dst_ip"] = src, dst
        return "IP " + _transport(payload.data, src, dst, out, payload.len - payload.hl * 4)
    if isinstance(payload, dpkt.ip6.IP6):
        src = socket.inet_ntop(socket.AF_INET6, payload.src)
        dst = socket.inet_ntop(socket.AF_INET6, payload.dst)
        out["src_ip"], out["dst_ip"] = src, dst
        return "IP6 " + _transport(payload.data, src, dst, out, payload.plen)
    kind = getattr(payload, "type", None)
    return f"ethertype {kind if kind is not None else 'unknown'}, length {out['length']}"


def _transport(data: Any, src: str, dst: str, out: dict[str, Any], length: int) -> str:
    if isinstance(data, dpkt.icmp.ICMP):
        out["protocol"] = "icmp"
        what = _ICMP.get(data.type, f"type {data.type}")
        if data.type in (0, 8) and isinstance(data.data, dpkt.icmp.ICMP.Echo):
            what += f", id {data.data.id}, seq {data.data.seq}"
        elif data.type == 3:  # about an earlier packet, whose destination is inside
            inner = getattr(data.data, "data", None)
            about = socket.inet_ntoa(inner.dst) if isinstance(inner, dpkt.ip.IP) else dst
            what = f"{_UNREACH.get(data.code, 'destination')} {about} unreachable"
        return f"{src} > {dst}: ICMP {what}, length {length}"
    if isinstance(data, dpkt.icmp6.ICMP6):
        out["protocol"] = "icmp6"
        what = _ICMP6.get(data.type, f"type {data.type}")
        if data.type in (128, 129) and isinstance(data.data, dpkt.icmp6.ICMP6.Echo):
            what += f", id {data.data.id}, seq {data.data.seq}"
        elif data.type == 135 and len(bytes(data.data)) >= 20:
            who = socket.inet_ntop(socket.AF_INET6, bytes(data.data)[4:20])
            what += f", who has {who}"
        return f"{src} > {dst}: ICMP6, {what}, length {length}"
    if isinstance(data, dpkt.udp.UDP):
        out["protocol"] = "udp"
        return f"{src}.{data.sport} > {dst}.{data.dport}: UDP, length {len(data.data)}"
    if isinstance(data, dpkt.tcp.TCP):
        out["protocol"] = "tcp"
        return f"{src}.{data.sport} > {dst}.{data.dport}: tcp {len(data.data)}"
    out["protocol"] = "ip"
    return f"{src} > {dst}: ip-proto-{getattr(data, 'p', '?')} {length}"
