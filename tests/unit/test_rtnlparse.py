"""The helper's fast link/address decoder agrees with pyroute2's full decoder."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nstopo.backend.rtnlparse import parse_addr, parse_link
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

OPER = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"]


def encoded_link(index: int, flags: int, attrs: list[tuple[str, Any]]) -> bytes:
    msg = ifinfmsg()
    msg["family"], msg["index"], msg["flags"], msg["change"] = 0, index, flags, 0
    msg["attrs"] = attrs
    msg.encode()
    return bytes(msg.data)


def reference(data: bytes) -> dict[str, Any]:
    """What pyroute2's decoder reads from the same bytes."""
    msg = ifinfmsg(data)
    msg.decode()
    info = msg.get_attr("IFLA_LINKINFO")
    kind = info.get_attr("IFLA_INFO_KIND") if info else None
    stats = msg.get_attr("IFLA_STATS64") or {}
    tun_type = None
    if kind == "tun":
        tun = info.get_attr("IFLA_INFO_DATA")
        tun_type = "tap" if tun and tun.get_attr("IFLA_TUN_TYPE") == 2 else "tun"
    return {
        "index": msg["index"],
        "name": msg.get_attr("IFLA_IFNAME"),
        "kind": kind,
        "oper": msg.get_attr("IFLA_OPERSTATE") or "UNKNOWN",
        "alias": msg.get_attr("IFLA_IFALIAS"),
        "master": msg.get_attr("IFLA_MASTER"),
        "up": bool(msg["flags"] & 1),
        "mtu": msg.get_attr("IFLA_MTU") or 0,
        "mac": msg.get_attr("IFLA_ADDRESS"),
        "peer_index": msg.get_attr("IFLA_LINK"),
        "peer_netnsid": msg.get_attr("IFLA_LINK_NETNSID"),
        "tun_type": tun_type,
        "rx_packets": stats.get("rx_packets", 0),
        "tx_packets": stats.get("tx_packets", 0),
        "rx_bytes": stats.get("rx_bytes", 0),
        "tx_bytes": stats.get("tx_bytes", 0),
    }


names = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=15)
macs = st.binary(min_size=6, max_size=6).map(lambda b: b.hex(":"))


@given(
    index=st.integers(1, 2**31 - 1),
    up=st.booleans(),
    name=names,
    mtu=st.integers(68, 65535),
    oper=st.sampled_from(OPER),
    mac=macs,
    master=st.none() | st.integers(1, 2**31 - 1),
    alias=st.none() | names,
    netnsid=st.none() | st.integers(0, 2**31 - 1),
    kind=st.sampled_from([None, "veth", "bridge", "tun-tap", "tun-tun"]),
    counts=st.tuples(*[st.integers(0, 2**63)] * 4),
)
def test_links_decode_as_pyroute2_decodes_them(
    index, up, name, mtu, oper, mac, master, alias, netnsid, kind, counts
) -> None:
    attrs: list[tuple[str, Any]] = [
        ("IFLA_IFNAME", name),
        ("IFLA_MTU", mtu),
        ("IFLA_OPERSTATE", oper),
        ("IFLA_ADDRESS", mac),
    ]
    if master is not None:
        attrs.append(("IFLA_MASTER", master))
    if alias is not None:
        attrs.append(("IFLA_IFALIAS", alias))
    if netnsid is not None:
        attrs += [("IFLA_LINK", index + 1), ("IFLA_LINK_NETNSID", netnsid)]
    if kind is not None:
        info: list[tuple[str, Any]] = [("IFLA_INFO_KIND", kind.split("-")[0])]
        if kind.startswith("tun"):
            tun_type = 2 if kind == "tun-tap" else 1
            info.append(("IFLA_INFO_DATA", {"attrs": [("IFLA_TUN_TYPE", tun_type)]}))
        attrs.append(("IFLA_LINKINFO", {"attrs": info}))
    rx_packets, tx_packets, rx_bytes, tx_bytes = counts
    stats = {"rx_packets": rx_packets, "tx_packets": tx_packets}
    attrs.append(("IFLA_STATS64", {**stats, "rx_bytes": rx_bytes, "tx_bytes": tx_bytes}))
    data = encoded_link(index, 1 if up else 0, attrs)
    assert parse_link(data) == reference(data)


@pytest.mark.parametrize(
    ("family", "address", "prefix"),
    [(socket.AF_INET, "10.1.2.3", 24), (socket.AF_INET6, "fd00:10::1", 64)],
)
def test_addresses_decode_as_pyroute2_decodes_them(family: int, address: str, prefix: int) -> None:
    msg = ifaddrmsg()
    msg["family"], msg["prefixlen"], msg["index"] = family, prefix, 12
    msg["attrs"] = [("IFA_ADDRESS", address), ("IFA_LOCAL", address)]
    msg.encode()
    data = bytes(msg.data)
    decoded = ifaddrmsg(data)
    decoded.decode()
    expected = (12, decoded.get_attr("IFA_LOCAL"), prefix, family)
    assert parse_addr(data) == expected == (12, address, prefix, family)


def test_a_message_inside_a_datagram_is_read_at_its_offset() -> None:
    first = encoded_link(1, 1, [("IFLA_IFNAME", "lo"), ("IFLA_OPERSTATE", "UNKNOWN")])
    second = encoded_link(2, 0, [("IFLA_IFNAME", "eth0"), ("IFLA_OPERSTATE", "DOWN")])
    datagram = first + second
    assert parse_link(datagram, len(first))["name"] == "eth0"
    assert parse_link(datagram, len(first))["oper"] == "DOWN"
    assert parse_link(datagram, 0)["name"] == "lo"
