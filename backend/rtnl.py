"""rtnetlink over a plain socket: requests sent in batches and acked one by one.

pyroute2 encodes and decodes the messages (its ifinfmsg/ifaddrmsg/rtmsg classes);
the I/O is ours. pyroute2 0.9's synchronous IPRoute runs an event loop per call
(about 3 ms each) and opens its socket per thread; a plain socket does neither,
and one send can carry many requests: the kernel processes each in order and
acks each (NETLINK_CAP_ACK keeps the acks small).
"""

from __future__ import annotations

import itertools
import socket
import struct
from dataclasses import dataclass
from typing import Any

from pyroute2.netlink import NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST
from pyroute2.netlink.rtnl import (
    RTM_DELADDR,
    RTM_DELLINK,
    RTM_DELROUTE,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETNEIGH,
    RTM_GETNSID,
    RTM_GETROUTE,
    RTM_GETRULE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWROUTE,
)
from pyroute2.netlink.rtnl.fibmsg import fibmsg
from pyroute2.netlink.rtnl.ifaddrmsg import IFA_F_NODAD, ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import IFF_UP, ifinfmsg
from pyroute2.netlink.rtnl.ndmsg import ndmsg
from pyroute2.netlink.rtnl.nsidmsg import nsidmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from .rtnlparse import parse_addr, parse_link

SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
SO_RCVBUFFORCE = 33
NLMSG_ERROR, NLMSG_DONE = 2, 3
CHUNK = 64  # requests per send: their acks must fit the receive buffer
NUD_NOARP, NUD_PERMANENT = 0x40, 0x80  # ndm_state bits (linux/neighbour.h)
_HEADER = struct.Struct("=IHHII")
AF_INET, AF_INET6 = 2, 10
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_NOWHERE = 254, 3, 0, 253, 255
RTN_UNICAST = 1


@dataclass(frozen=True)
class Request:
    """One encoded request; `ignore` lists errnos that count as success (already gone)."""

    data: bytes
    seq: int
    ignore: frozenset[int] = frozenset()


@dataclass(frozen=True)
class LinkInfo:
    index: int
    name: str
    kind: str | None  # "veth", "bridge", "tun" (tun/tap: see tun_type), None for others
    oper: str
    alias: str | None
    master: int | None
    up: bool
    mtu: int = 0
    mac: str | None = None
    peer_index: int | None = None  # IFLA_LINK: a veth's peer
    peer_netnsid: int | None = None  # IFLA_LINK_NETNSID: where that peer is, if elsewhere
    tun_type: str | None = None  # "tap" or "tun"
    rx_bytes: int = 0
    tx_bytes: int = 0
    rx_packets: int = 0
    tx_packets: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "kind": self.tun_type or self.kind,
            "oper": self.oper,
            "up": self.up,
            "mtu": self.mtu,
            "mac": self.mac,
            "master": self.master,
            "tag": self.alias,
        }


@dataclass(frozen=True)
class FdbEntry:
    """One line of a bridge's forwarding database (`bridge fdb show br BR`)."""

    mac: str
    port: int  # ifindex of the bridge port (or of the bridge itself)
    master: int | None
    vlan: int | None
    local: bool  # the bridge's own address (NUD_PERMANENT)
    static: bool  # added by hand (NUD_NOARP)
    age_s: float | None  # seconds since the bridge last saw this MAC (learned entries)


@dataclass(frozen=True)
class RouteInfo:
    family: int
    to: str  # "default" or a CIDR
    via: str | None
    oif: int | None
    metric: int | None
    table: int = 254  # RT_TABLE_MAIN
    type: int = 1  # RTN_UNICAST; 6 blackhole, 7 unreachable, 8 prohibit, ...
    prefsrc: str | None = None  # the `src` hint
    hops: int = 0  # next hops of a multipath route (0: not multipath)


@dataclass(frozen=True)
class RuleInfo:
    family: int
    priority: int
    table: int
    action: int  # FR_ACT_TO_TBL 1, 6 blackhole, ...
    selectors: tuple[str, ...]  # e.g. ("from 10.0.0.0/24", "iif eth1"): empty = "from all"


@dataclass(frozen=True)
class AddrInfo:
    index: int
    address: str
    prefixlen: int
    family: int

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefixlen}"


class Rtnl:
    _seq = itertools.count(1)

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @classmethod
    def open_here(cls) -> Rtnl:
        """A socket in the calling thread's network namespace (bound for good)."""
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, socket.NETLINK_ROUTE)
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
            sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
            sock.bind((0, 0))
        except OSError:
            sock.close()
            raise
        return cls(sock)

    def close(self) -> None:
        self.sock.close()

    # -- requests ------------------------------------------------------------------------
    def run(self, requests: list[Request]) -> list[int]:
        """Send requests in order; the errno of each (0: done), in the same order."""
        results: dict[int, int] = {}
        for start in range(0, len(requests), CHUNK):
            chunk = requests[start : start + CHUNK]
            self.sock.send(b"".join(r.data for r in chunk))
            wanted = {r.seq for r in chunk}
            while wanted:
                for seq, error in self._acks():
                    if seq in wanted:
                        wanted.discard(seq)
                        results[seq] = error
        return [0 if results[r.seq] in r.ignore else results[r.seq] for r in requests]

    def _acks(self) -> list[tuple[int, int]]:
        data = self.sock.recv(1 << 20)
        out, offset = [], 0
        while offset + _HEADER.size <= len(data):
            length, kind, _, seq, _ = _HEADER.unpack_from(data, offset)
            if kind == NLMSG_ERROR:
                out.append((seq, -struct.unpack_from("=i", data, offset + 16)[0]))
            offset += (length + 3) & ~3 or len(data)
        return out

    def links(self) -> list[LinkInfo]:
        """Every link in this namespace (one dump, decoded by rtnlparse)."""
        return [LinkInfo(**parse_link(m, 0)) for m in self.dump_raw(ifinfmsg, RTM_GETLINK)]

    def addresses(self) -> list[AddrInfo]:
        return [AddrInfo(*parse_addr(m, 0)) for m in self.dump_raw(ifaddrmsg, RTM_GETADDR)]

    def dump(self, cls: type, kind: int, fields: dict[str, Any] | None = None) -> list[Any]:
        """Decoded messages of one dump request."""
        out = []
        for raw in self.dump_raw(cls, kind, fields):
            msg = cls(raw)
            msg.decode()
            out.append(msg)
        return out

    def dump_raw(self, cls: type, kind: int, fields: dict[str, Any] | None = None) -> list[bytes]:
        """The messages of one dump request, undecoded (each with its netlink header)."""
        seq = next(self._seq)
        self.sock.send(_encode(cls, kind, NLM_F_REQUEST | NLM_F_DUMP, seq, fields or {}, []))
        out = []
        while True:
            data = self.sock.recv(1 << 20)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, msg_kind, _, msg_seq, _ = _HEADER.unpack_from(data, offset)
                if msg_seq == seq:
                    if msg_kind == NLMSG_DONE:
                        return out
                    if msg_kind == NLMSG_ERROR:
                        code = -struct.unpack_from("=i", data, offset + 16)[0]
                        raise OSError(code, "netlink dump")
                    out.append(data[offset : offset + length])
                offset += (length + 3) & ~3 or len(data)

    def fdb(self) -> list[FdbEntry]:
        """Every bridge forwarding entry in this namespace (family AF_BRIDGE)."""
        out = []
        for msg in self.dump(ndmsg, RTM_GETNEIGH, {"family": socket.AF_BRIDGE}):
            mac = msg.get_attr("NDA_LLADDR")
            if mac is None:
                continue
            cache = msg.get_attr("NDA_CACHEINFO")
            state = msg["state"]
            out.append(
                FdbEntry(
                    mac=mac,
                    port=msg["ifindex"],
                    master=msg.get_attr("NDA_MASTER"),
                    vlan=msg.get_attr("NDA_VLAN"),
                    local=bool(state & NUD_PERMANENT),
                    static=bool(state & NUD_NOARP),
                    age_s=cache["ndm_updated"] / 100
                    if cache and not state & NUD_PERMANENT
                    else None,
                )
            )
        return out

    def routes(self) -> list[RouteInfo]:
        """IPv4 and IPv6 routes of every table that someone added (not the kernel's
        own connected, local and router-advertisement routes)."""
        out = []
        for family in (socket.AF_INET, socket.AF_INET6):  # AF_UNSPEC dumps IPv4 only
            for msg in self.dump(rtmsg, RTM_GETROUTE, {"family": family}):
                if msg["proto"] in (2, 9):
                    continue  # 2: kernel (connected, local), 9: router advertisement
                dst = msg.get_attr("RTA_DST")
                out.append(
                    RouteInfo(
                        family=msg["family"],
                        to=f"{dst}/{msg['dst_len']}" if dst else "default",
                        via=msg.get_attr("RTA_GATEWAY"),
                        oif=msg.get_attr("RTA_OIF"),
                        metric=msg.get_attr("RTA_PRIORITY"),
                        table=msg.get_attr("RTA_TABLE") or msg["table"],
                        type=msg["type"],
                        prefsrc=msg.get_attr("RTA_PREFSRC"),
                        hops=len(msg.get_attr("RTA_MULTIPATH") or ()),
                    )
                )
        return out

    def rules(self) -> list[RuleInfo]:
        """Policy routing rules, IPv4 and IPv6 (the kernel's defaults included)."""
        out = []
        for family in (socket.AF_INET, socket.AF_INET6):
            for msg in self.dump(fibmsg, RTM_GETRULE, {"family": family}):
                selectors = []
                for attr, word, length in (("FRA_SRC", "from", "src_len"),
                                           ("FRA_DST", "to", "dst_len")):  # fmt: skip
                    if msg.get_attr(attr):
                        selectors.append(f"{word} {msg.get_attr(attr)}/{msg[length]}")
                for attr, word in (("FRA_IIFNAME", "iif"), ("FRA_OIFNAME", "oif"),
                                   ("FRA_FWMARK", "fwmark")):  # fmt: skip
                    if msg.get_attr(attr) is not None:
                        selectors.append(f"{word} {msg.get_attr(attr)}")
                if msg["tos"]:
                    selectors.append(f"tos {msg['tos']}")
                out.append(
                    RuleInfo(
                        family=family,
                        priority=msg.get_attr("FRA_PRIORITY") or 0,
                        table=msg.get_attr("FRA_TABLE") or msg["table"],
                        action=msg["action"],
                        selectors=tuple(selectors),
                    )
                )
        return out

    def nsid_of(self, fd: int) -> int | None:
        """The id this namespace gives the namespace behind `fd` (None: none yet)."""
        seq = next(self._seq)
        self.sock.send(_encode(nsidmsg, RTM_GETNSID, NLM_F_REQUEST, seq, {}, [("NETNSA_FD", fd)]))
        while True:
            data = self.sock.recv(65536)
            length, kind, _, msg_seq, _ = _HEADER.unpack_from(data, 0)
            if msg_seq != seq:
                continue
            if kind == NLMSG_ERROR:
                return None
            msg = nsidmsg(data[:length])
            msg.decode()
            nsid = msg.get_attr("NETNSA_NSID")
            return None if nsid is None or nsid >= 2**31 else nsid


def open_events(groups: int) -> socket.socket:
    """A non-blocking socket in the calling thread's namespace, subscribed to `groups`."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, socket.NETLINK_ROUTE)
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    sock.bind((0, groups))
    sock.setblocking(False)
    return sock


def decode_events(data: bytes) -> list[tuple[int, LinkInfo | AddrInfo]]:
    """(message type, link or address) for each link and address event in a datagram
    (decoded by rtnlparse: a watcher reads thousands a second)."""
    out: list[tuple[int, LinkInfo | AddrInfo]] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _, _, _ = _HEADER.unpack_from(data, offset)
        if kind in (RTM_NEWLINK, RTM_DELLINK):
            out.append((kind, LinkInfo(**parse_link(data, offset))))
        elif kind in (RTM_NEWADDR, RTM_DELADDR):
            out.append((kind, AddrInfo(*parse_addr(data, offset))))
        offset += (length + 3) & ~3 or len(data)
    return out


def _encode(
    cls: type, kind: int, flags: int, seq: int, fields: dict[str, Any], attrs: list[tuple[str, Any]]
) -> bytes:
    msg = cls()
    for key, value in fields.items():
        msg[key] = value
    msg["attrs"] = attrs
    msg["header"]["type"] = kind
    msg["header"]["flags"] = flags
    msg["header"]["sequence_number"] = seq
    msg.encode()
    return bytes(msg.data[: msg["header"]["length"]])


def _request(
    cls: type,
    kind: int,
    flags: int,
    fields: dict[str, Any],
    attrs: list[tuple[str, Any]],
    ignore: frozenset[int] = frozenset(),
) -> Request:
    seq = next(Rtnl._seq)
    return Request(
        _encode(cls, kind, flags | NLM_F_REQUEST | NLM_F_ACK, seq, fields, attrs), seq, ignore
    )


# -- request builders ----------------------------------------------------------------------
CREATE = NLM_F_CREATE | NLM_F_EXCL


def _hw(mtu: int | None, mac: str | None) -> list[tuple[str, Any]]:
    return [*([("IFLA_MTU", mtu)] if mtu else []), *([("IFLA_ADDRESS", mac)] if mac else [])]


def new_veth(
    name: str,
    peer: str,
    peer_ns_fd: int | None,
    mtu: int | None,
    mac: str | None,
    peer_mac: str | None,
) -> Request:
    peer_attrs = [("IFLA_IFNAME", peer), *_hw(mtu, peer_mac)]
    if peer_ns_fd is not None:
        peer_attrs.append(("IFLA_NET_NS_FD", peer_ns_fd))
    data = {"attrs": [("VETH_INFO_PEER", {"attrs": peer_attrs})]}
    linkinfo = {"attrs": [("IFLA_INFO_KIND", "veth"), ("IFLA_INFO_DATA", data)]}
    return _request(
        ifinfmsg,
        RTM_NEWLINK,
        CREATE,
        {},
        [("IFLA_IFNAME", name), *_hw(mtu, mac), ("IFLA_LINKINFO", linkinfo)],
    )


def new_bridge(name: str, mtu: int | None, mac: str | None) -> Request:
    linkinfo = {"attrs": [("IFLA_INFO_KIND", "bridge")]}
    return _request(
        ifinfmsg,
        RTM_NEWLINK,
        CREATE,
        {},
        [("IFLA_IFNAME", name), *_hw(mtu, mac), ("IFLA_LINKINFO", linkinfo)],
    )


def set_link(
    name: str, *, up: bool | None = None, ignore: frozenset[int] = frozenset(), **attrs: Any
) -> Request:
    """Change a link found by name: IFLA_MTU, IFLA_ADDRESS, IFLA_MASTER, IFLA_IFALIAS, ..."""
    fields = {} if up is None else {"flags": IFF_UP if up else 0, "change": IFF_UP}
    return _request(
        ifinfmsg, RTM_NEWLINK, 0, fields, [("IFLA_IFNAME", name), *attrs.items()], ignore
    )


def del_link(name: str, ignore: frozenset[int]) -> Request:
    return _request(ifinfmsg, RTM_DELLINK, 0, {}, [("IFLA_IFNAME", name)], ignore)


def address(
    add: bool,
    index: int,
    ip: str,
    prefixlen: int,
    version: int,
    ignore: frozenset[int] = frozenset(),
) -> Request:
    family = AF_INET6 if version == 6 else AF_INET
    attrs: list[tuple[str, Any]] = [("IFA_LOCAL", ip), ("IFA_ADDRESS", ip)]
    fields = {"family": family, "prefixlen": prefixlen, "index": index}
    if version == 6:
        fields["flags"] = IFA_F_NODAD  # lab addresses are usable at once, not "tentative"
        attrs = [("IFA_ADDRESS", ip)]
    return _request(
        ifaddrmsg, RTM_NEWADDR if add else RTM_DELADDR, CREATE if add else 0, fields, attrs, ignore
    )


def route(
    add: bool,
    version: int,
    dst: str | None,
    dst_len: int,
    gateway: str | None,
    oif: int | None,
    metric: int | None,
    ignore: frozenset[int] = frozenset(),
) -> Request:
    scope = RT_SCOPE_UNIVERSE if gateway else RT_SCOPE_LINK
    fields = {
        "family": AF_INET6 if version == 6 else AF_INET,
        "dst_len": dst_len,
        "table": RT_TABLE_MAIN,
        "proto": RTPROT_BOOT,
        "type": RTN_UNICAST,
        "scope": scope if add else RT_SCOPE_NOWHERE,
    }
    attrs: list[tuple[str, Any]] = []
    if dst is not None and dst_len:
        attrs.append(("RTA_DST", dst))
    if gateway:
        attrs.append(("RTA_GATEWAY", gateway))
    if oif is not None:
        attrs.append(("RTA_OIF", oif))
    if metric is not None:
        attrs.append(("RTA_PRIORITY", metric))
    return _request(
        rtmsg, RTM_NEWROUTE if add else RTM_DELROUTE, CREATE if add else 0, fields, attrs, ignore
    )
