"""Decode captured frames into fields and the lines `tcpdump -n` and `tcpdump -n -e` print.

The formats are tcpdump 4.99's (checked by tests/unit/test_packets_tcpdump.py, which
runs the real tcpdump on the same frames). The frame is walked by hand, not by a
decoding library, because tcpdump's output depends on exactly where a short frame
ends (`[|icmp]`, `truncated-ip - N bytes missing!`).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Any

ETH_P_IP, ETH_P_ARP, ETH_P_IPV6 = 0x0800, 0x0806, 0x86DD
VLAN_TYPES = {0x8100: "802.1Q", 0x88A8: "802.1Q-QinQ", 0x9100: "802.1Q-9100"}
ETHERTYPE_NAMES = {ETH_P_IP: "IPv4", ETH_P_ARP: "ARP", ETH_P_IPV6: "IPv6", **VLAN_TYPES}

_ICMP_TYPES = {
    0: "echo reply",
    4: "source quench",
    8: "echo request",
    10: "router solicitation",
    13: "time stamp request",
    14: "time stamp reply",
    15: "information request",
    16: "information reply",
    17: "address mask request",
}
# Destination unreachable, by code: (format, uses the inner packet's destination).
_UNREACH = {
    0: "net {} unreachable",
    1: "host {} unreachable",
    5: "{} unreachable - source route failed",
    6: "net {} unreachable - unknown",
    7: "host {} unreachable - unknown",
    8: "{} unreachable - source host isolated",
    9: "net {} unreachable - admin prohibited",
    10: "host {} unreachable - admin prohibited",
    11: "net {} unreachable - tos prohibited",
    12: "host {} unreachable - tos prohibited",
    13: "host {} unreachable - admin prohibited filter",
    14: "host {} unreachable - host precedence violation",
    15: "host {} unreachable - precedence cutoff",
}
_ICMP6_TYPES = {
    1: "destination unreachable",
    2: "packet too big",
    3: "time exceeded in-transit",
    4: "parameter problem",
    128: "echo request",
    129: "echo reply",
    130: "multicast listener query",
    131: "multicast listener report",
    132: "multicast listener done",
    133: "router solicitation",
    134: "router advertisement",
    135: "neighbor solicitation",
    136: "neighbor advertisement",
    137: "redirect",
    143: "multicast listener report v2",
}
_ICMP6_UNREACH = {
    0: "unreachable route",
    1: " unreachable prohibited",
    2: "beyond scope",
    3: "unreachable address",
    4: "unreachable port",
}
_TCP_FLAGS = ((0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x10, "."), (0x20, "U"))
_TCP_FLAGS += ((0x40, "E"), (0x80, "W"))


class _Short(Exception):
    """The frame ends before a field the line needs."""


def mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _ip4(raw: bytes) -> str:
    return socket.inet_ntoa(raw)


def _ip6(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6, raw)


def _unpack(fmt: str, data: bytes, offset: int = 0) -> tuple[Any, ...]:
    if len(data) < offset + struct.calcsize(fmt):
        raise _Short
    return struct.unpack_from(fmt, data, offset)


@dataclass
class _Decoded:
    prefix: str = ""  # what -n prints before the network layer ("IP ", "ARP, ")
    body: str = ""  # the network layer and up, as both -n and -e print it


def describe(frame: bytes, ethernet: bool = True) -> dict[str, Any]:
    """Fields the editor colors and animates, plus the lines tcpdump -n prints
    (`summary`) and, with -e, the link-level header too (`link_summary`)."""
    out: dict[str, Any] = {
        "length": len(frame),
        "protocol": "other",
        "src_mac": None,
        "dst_mac": None,
        "src_ip": None,
        "dst_ip": None,
        "vlans": [],
    }
    if not ethernet:
        kind = ETH_P_IPV6 if frame[:1] and frame[0] >> 4 == 6 else ETH_P_IP
        decoded = _network(kind, frame, out)
        out["summary"] = out["link_summary"] = decoded.prefix + decoded.body
        return out
    if len(frame) < 14:
        out["summary"] = out["link_summary"] = " [|ether]"
        return out
    out["dst_mac"], out["src_mac"] = mac(frame[:6]), mac(frame[6:12])
    outer = kind = struct.unpack_from("!H", frame, 12)[0]
    offset, chain = 14, []
    while kind in VLAN_TYPES and len(frame) >= offset + 4:
        tci, inner = struct.unpack_from("!HH", frame, offset)
        out["vlans"].append(tci & 0x0FFF)
        dei = ", DEI" if tci & 0x1000 else ""
        chain.append(f"vlan {tci & 0x0FFF}, p {tci >> 13}{dei}, ethertype {_ethertype(inner)}, ")
        kind, offset = inner, offset + 4
    head = f"{out['src_mac']} > {out['dst_mac']}, ethertype {_ethertype(outer)}"
    head += f", length {len(frame)}: "
    if kind not in (ETH_P_IP, ETH_P_ARP, ETH_P_IPV6):
        # tcpdump prints the link header for what it cannot decode, -e or not; without
        # -e it names the innermost ethertype only.
        out["summary"] = f"{out['src_mac']} > {out['dst_mac']}, ethertype {_ethertype(kind)}"
        out["summary"] += f", length {len(frame)}: "
        out["link_summary"] = head + "".join(chain)
        return out
    decoded = _network(kind, frame[offset:], out)
    out["summary"] = decoded.prefix + decoded.body
    out["link_summary"] = head + "".join(chain) + decoded.body
    return out


def _ethertype(kind: int) -> str:
    name = ETHERTYPE_NAMES.get(kind, "Unknown")
    return f"{name} (0x{kind:04x})"


def _network(kind: int, data: bytes, out: dict[str, Any]) -> _Decoded:
    decoded = _Decoded()
    if kind == ETH_P_ARP:
        decoded.body = _arp(data, out)
        if decoded.body != " [|arp]":
            decoded.prefix = "ARP, "
    elif kind == ETH_P_IP:
        decoded.prefix = "IP "
        decoded.body = _ipv4(data, out)
    else:
        decoded.body = _ipv6(data, out)
        if decoded.body != " [|ip6]":
            decoded.prefix = "IP6 "
    return decoded


def _arp(data: bytes, out: dict[str, Any]) -> str:
    out["protocol"] = "arp"
    try:
        _, ptype, hlen, plen, op = _unpack("!HHBBH", data)
        if ptype != ETH_P_IP or hlen != 6 or plen != 4:
            return f"Unknown Protocol (0x{ptype:04x}), length {len(data)}"
        sha, spa, _, tpa = _unpack("!6s4s6s4s", data, 8)
    except _Short:
        return " [|arp]"
    sender, target = _ip4(spa), _ip4(tpa)
    out["src_ip"], out["dst_ip"] = sender, target
    if op == 1:
        return f"Request who-has {target} tell {sender}, length 28"
    if op == 2:
        return f"Reply {sender} is-at {mac(sha)}, length 28"
    return f"Unknown ({op}), length 28"


def _ipv4(data: bytes, out: dict[str, Any]) -> str:
    if len(data) < 20:
        return " [|ip]"
    version_ihl, _, total, _, frag, _, proto = struct.unpack_from("!BBHHHBB", data)
    header = (version_ihl & 0x0F) * 4
    src, dst = _ip4(data[12:16]), _ip4(data[16:20])
    out["src_ip"], out["dst_ip"], out["protocol"] = src, dst, "ip"
    missing = f"truncated-ip - {total - len(data)} bytes missing! " if len(data) < total else ""
    payload = data[header:total]
    length = total - header
    offset, more = (frag & 0x1FFF) * 8, bool(frag & 0x2000)
    if offset:  # not the first fragment: no transport header to read
        return f"{missing}{src} > {dst}: ip-proto-{proto}"
    del more  # a first fragment prints like a whole packet
    return missing + _transport(proto, payload, length, src, dst, out)


def _ipv6(data: bytes, out: dict[str, Any]) -> str:
    if len(data) < 40:
        return " [|ip6]"
    plen, nxt = struct.unpack_from("!HB", data, 4)
    src, dst = _ip6(data[8:24]), _ip6(data[24:40])
    out["src_ip"], out["dst_ip"], out["protocol"] = src, dst, "ip"
    missing = len(data) < 40 + plen
    # tcpdump 4.99 prints no space after the "!" here.
    text = f"truncated-ip6 - {40 + plen - len(data)} bytes missing!" if missing else ""
    prefix, extensions = f"{src} > {dst}: ", ""
    offset, end = 40, 40 + plen
    try:
        while nxt in (0, 44):  # hop-by-hop options, fragment
            if nxt == 0:
                nxt, size = _unpack("!BB", data, offset)
                extensions += "HBH "
                offset += (size + 1) * 8
            else:
                nxt, _, offlg = _unpack("!BBH", data, offset)
                fragment = offlg & 0xFFF8
                offset += 8
                extensions += f"frag ({fragment}|{end - offset}) "
                if fragment:
                    return text + prefix + extensions.rstrip()
    except _Short:
        return text + prefix + extensions + "[|ip6]"
    body = _transport(nxt, data[offset:end], end - offset, src, dst, out)
    if extensions and body.startswith(prefix):
        body = prefix + extensions + body[len(prefix) :]
    return text + body


def _transport(
    proto: int, data: bytes, length: int, src: str, dst: str, out: dict[str, Any]
) -> str:
    """`src > dst: ...`, or with ports `src.port > dst.port: ...` as tcpdump prints."""
    addresses = f"{src} > {dst}: "
    if proto in (6, 17) and len(data) >= 4:
        sport, dport = struct.unpack_from("!HH", data)
        addresses = f"{src}.{sport} > {dst}.{dport}: "
    try:
        if proto == 1:
            out["protocol"] = "icmp"
            return addresses + _icmp(data, length)
        if proto == 58:
            out["protocol"] = "icmp6"
            return addresses + _icmp6(data, length)
        if proto == 17:
            out["protocol"] = "udp"
            (ulen,) = _unpack("!4xH", data)
            return f"{addresses}UDP, length {ulen - 8}"
        if proto == 6:
            out["protocol"] = "tcp"
            return addresses + _tcp(data, length)
    except _Short:
        return addresses + {1: " [|icmp]", 17: " [|udp]", 6: " [|tcp]"}[proto]
    return f"{addresses} ip-proto-{proto} {length}"


def _icmp(data: bytes, length: int) -> str:
    kind, code = _unpack("!BB", data)
    if kind in (0, 8):
        ident, seq = _unpack("!HH", data, 4)
        what = f"echo {'request' if kind == 8 else 'reply'}, id {ident}, seq {seq}"
    elif kind == 3:
        what = _icmp_unreachable(code, data)
    elif kind == 11:
        what = {0: "time exceeded in-transit", 1: "ip reassembly time exceeded"}.get(
            code, f"time exceeded-#{code}"
        )
    else:
        what = _ICMP_TYPES.get(kind, f"type-#{kind}")
    return f"ICMP {what}, length {length}"


def _icmp_unreachable(code: int, data: bytes) -> str:
    """About an earlier packet, quoted after the 8-byte ICMP header."""
    version_ihl, proto = _unpack("!B8xB", data, 8)
    inner_dst = _ip4(bytes(_unpack("!4s", data, 24)[0]))
    if code == 2:
        return f"{inner_dst} protocol {proto} unreachable"
    if code == 3:
        ports = 8 + (version_ihl & 0x0F) * 4
        (dport,) = _unpack("!2xH", data, ports)
        if proto in (6, 17):
            return f"{inner_dst} {'tcp' if proto == 6 else 'udp'} port {dport} unreachable"
        return f"{inner_dst} protocol {proto} port {dport} unreachable"
    if code == 4:
        (mtu,) = _unpack("!H", data, 6)
        return f"{inner_dst} unreachable - need to frag" + (f" (mtu {mtu})" if mtu else "")
    return _UNREACH.get(code, "{} unreachable - #" + str(code)).format(inner_dst)


def _icmp6(data: bytes, length: int) -> str:
    """tcpdump prints ICMPv6 as it reads it: a short message ends in `[|icmp6]`."""
    kind, code = _unpack("!BB", data)
    text = "ICMP6, " + _ICMP6_TYPES.get(kind, f"unknown icmp6 type ({kind})")
    try:
        text = _icmp6_details(text, kind, code, data)
    except _Short:
        return text + " [|icmp6]"
    return f"{text}, length {length}"


def _icmp6_details(text: str, kind: int, code: int, data: bytes) -> str:
    if kind in (128, 129):
        ident, seq = _unpack("!HH", data, 4)
        text += f", id {ident}, seq {seq}"
    elif kind == 135:
        text += f", who has {_ip6(bytes(_unpack('!16s', data, 8)[0]))}"
    elif kind == 136:
        text += f", tgt is {_ip6(bytes(_unpack('!16s', data, 8)[0]))}"
    elif kind == 143:
        (records,) = _unpack("!H", data, 6)
        text += f", {records} group record(s)"
    elif kind == 2:
        text += f", mtu {_unpack('!I', data, 4)[0]}"
    elif kind == 1:
        text += ", " + _ICMP6_UNREACH.get(code, f"unknown unreach code ({code})")
        inner_dst = _ip6(bytes(_unpack("!16s", data, 32)[0]))
        if code in (0, 1, 3):
            text += " " + inner_dst
        elif code == 4:  # the quoted packet's transport header, right after its IPv6 one
            (inner_next,) = _unpack("!B", data, 14)
            (dport,) = _unpack("!2xH", data, 48)
            if inner_next in (6, 17):
                text += f", {inner_dst} {'tcp' if inner_next == 6 else 'udp'} port {dport}"
            else:
                text += f", {inner_dst} protocol {inner_next} port {dport} unreachable"
    return text


def _tcp(data: bytes, length: int) -> str:
    sport, dport, seq, ack, offset_flags, window = _unpack("!HHIIHH", data)
    header = (offset_flags >> 12) * 4
    flags = "".join(letter for bit, letter in _TCP_FLAGS if offset_flags & bit) or "none"
    payload = length - header
    del sport, dport  # in the addresses already
    text = f"Flags [{flags}]"
    if payload > 0 or offset_flags & 0x07:  # SYN, FIN, RST carry a sequence number
        text += f", seq {seq}" + (f":{seq + payload}" if payload > 0 else "")
    if offset_flags & 0x10:
        text += f", ack {ack}"
    return f"{text}, win {window}, length {payload}"
