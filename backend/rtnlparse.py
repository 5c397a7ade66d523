"""Fast decoding of the two rtnetlink messages the helper reads by the thousand: links
(RTM_NEWLINK/DELLINK) and addresses (RTM_NEWADDR/DELADDR).

pyroute2's generic decoder builds every attribute of a message (statistics, per-family
data, ...) as Python objects: fine for a request's answer, too slow for a watcher that
must keep up with a thousand kernel events a second next to 200 namespaces' counters.
This walks the attributes with struct and keeps only what nstopo reports. Its output
is checked against pyroute2's decoder in tests/unit/test_rtnlparse.py.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from typing import Any

_IFINFO = struct.Struct("=BxHiII")  # family, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_ATTR = struct.Struct("=HH")
_U32 = struct.Struct("=I")
_S32 = struct.Struct("=i")
_STATS64 = struct.Struct("=QQQQ")  # rx_packets, tx_packets, rx_bytes, tx_bytes (first four)
NLMSG_HEADER = 16
IFF_UP = 0x1
TYPE_MASK = 0x3FFF  # without NLA_F_NESTED / NLA_F_NET_BYTEORDER

IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER = 1, 3, 4, 5, 10
IFLA_OPERSTATE, IFLA_LINKINFO, IFLA_IFALIAS, IFLA_STATS64 = 16, 18, 20, 23
IFLA_LINK_NETNSID = 37
IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_TUN_TYPE = 1, 2, 3
IFA_ADDRESS, IFA_LOCAL = 1, 2
IFF_TAP = 2
OPER_STATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")


def _attributes(data: bytes, offset: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(type, value offset, value end) of each attribute in data[offset:end]."""
    while offset + 4 <= end:
        length, kind = _ATTR.unpack_from(data, offset)
        if length < 4:
            return
        yield kind & TYPE_MASK, offset + 4, offset + length
        offset += (length + 3) & ~3


def _text(data: bytes, start: int, end: int) -> str:
    return data[start:end].split(b"\0", 1)[0].decode("utf-8", "replace")


def parse_link(data: bytes, offset: int = 0) -> dict[str, Any]:
    """The link message starting at `offset` (its netlink header included), as the
    fields of rtnl.LinkInfo."""
    length = _U32.unpack_from(data, offset)[0]
    end = offset + length
    _, _, index, flags, _ = _IFINFO.unpack_from(data, offset + NLMSG_HEADER)
    found: dict[str, object] = {}
    kind = tun_type = None
    stats = (0, 0, 0, 0)
    for attr, start, stop in _attributes(data, offset + NLMSG_HEADER + _IFINFO.size, end):
        if attr == IFLA_IFNAME:
            found["name"] = _text(data, start, stop)
        elif attr == IFLA_MTU:
            found["mtu"] = _U32.unpack_from(data, start)[0]
        elif attr == IFLA_OPERSTATE:
            state = data[start]
            found["oper"] = OPER_STATES[state] if state < len(OPER_STATES) else "UNKNOWN"
        elif attr == IFLA_ADDRESS and stop - start == 6:
            found["mac"] = data[start:stop].hex(":")
        elif attr == IFLA_MASTER:
            found["master"] = _U32.unpack_from(data, start)[0]
        elif attr == IFLA_LINK:
            found["peer_index"] = _U32.unpack_from(data, start)[0]
        elif attr == IFLA_LINK_NETNSID:
            found["peer_netnsid"] = _S32.unpack_from(data, start)[0]
        elif attr == IFLA_IFALIAS:
            found["alias"] = _text(data, start, stop)
        elif attr == IFLA_STATS64 and stop - start >= _STATS64.size:
            stats = _STATS64.unpack_from(data, start)
        elif attr == IFLA_LINKINFO:
            for sub, sub_start, sub_stop in _attributes(data, start, stop):
                if sub == IFLA_INFO_KIND:
                    kind = _text(data, sub_start, sub_stop)
                elif sub == IFLA_INFO_DATA and kind == "tun":
                    for tun, tun_start, _ in _attributes(data, sub_start, sub_stop):
                        if tun == IFLA_TUN_TYPE:
                            tun_type = "tap" if data[tun_start] == IFF_TAP else "tun"
    if kind == "tun" and tun_type is None:
        tun_type = "tun"
    return dict(
        index=index,
        name=str(found.get("name", "")),
        kind=kind,
        oper=str(found.get("oper", "UNKNOWN")),
        alias=found.get("alias"),
        master=found.get("master"),
        up=bool(flags & IFF_UP),
        mtu=found.get("mtu", 0),
        mac=found.get("mac"),
        peer_index=found.get("peer_index"),
        peer_netnsid=found.get("peer_netnsid"),
        tun_type=tun_type,
        rx_packets=stats[0],
        tx_packets=stats[1],
        rx_bytes=stats[2],
        tx_bytes=stats[3],
    )


def parse_addr(data: bytes, offset: int = 0) -> tuple[int, str, int, int]:
    """The address message starting at `offset` (its netlink header included), as
    (index, address, prefix length, family): the fields of rtnl.AddrInfo."""
    length = _U32.unpack_from(data, offset)[0]
    family, prefixlen, _, _, index = _IFADDR.unpack_from(data, offset + NLMSG_HEADER)
    local = address = None
    for attr, start, stop in _attributes(
        data, offset + NLMSG_HEADER + _IFADDR.size, offset + length
    ):
        if attr in (IFA_LOCAL, IFA_ADDRESS):
            text = socket.inet_ntop(family, data[start:stop])
            if attr == IFA_LOCAL:
                local = text
            else:
                address = text
    return index, local or address or "", prefixlen, family
