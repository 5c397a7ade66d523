"""tcpdump-style lines and fields for frames built with dpkt."""

from __future__ import annotations

import socket

import dpkt
from nstopo.backend.packets import describe

A_MAC, B_MAC = b"\x02\x00\x00\x00\x00\x0a", b"\x02\x00\x00\x00\x00\x0b"


def eth(payload: dpkt.Packet, kind: int, dst: bytes = B_MAC) -> bytes:
    return bytes(dpkt.ethernet.Ethernet(src=A_MAC, dst=dst, type=kind, data=payload))


def test_arp_request_and_reply_read_like_tcpdump() -> None:
    request = dpkt.arp.ARP(
        op=dpkt.arp.ARP_OP_REQUEST,
        sha=A_MAC,
        spa=socket.inet_aton("10.77.0.1"),
        tha=b"\0" * 6,
        tpa=socket.inet_aton("10.77.0.2"),
    )
    got = describe(eth(request, dpkt.ethernet.ETH_TYPE_ARP, b"\xff" * 6))
    assert got["summary"] == "ARP, Request who-has 10.77.0.2 tell 10.77.0.1, length 28"
    assert (got["protocol"], got["src_mac"], got["dst_mac"]) == (
        "arp",
        "02:00:00:00:00:0a",
        "ff:ff:ff:ff:ff:ff",
    )
    reply = dpkt.arp.ARP(
        op=dpkt.arp.ARP_OP_REPLY,
        sha=B_MAC,
        spa=socket.inet_aton("10.77.0.2"),
        tha=A_MAC,
        tpa=socket.inet_aton("10.77.0.1"),
    )
    assert describe(eth(reply, dpkt.ethernet.ETH_TYPE_ARP))["summary"] == (
        "ARP, Reply 10.77.0.2 is-at 02:00:00:00:00:0b, length 28"
    )


def test_icmp_echo_request() -> None:
    echo = dpkt.icmp.ICMP(type=8, data=dpkt.icmp.ICMP.Echo(id=7, seq=1, data=b"x" * 56))
    ip = dpkt.ip.IP(
        src=socket.inet_aton("10.77.0.1"),
        dst=socket.inet_aton("10.77.0.2"),
        p=dpkt.ip.IP_PROTO_ICMP,
        data=echo,
    )
    ip.len = len(bytes(ip))
    got = describe(eth(ip, dpkt.ethernet.ETH_TYPE_IP))
    assert got["summary"] == "IP 10.77.0.1 > 10.77.0.2: ICMP echo request, id 7, seq 1, length 64"
    assert (got["protocol"], got["src_ip"], got["dst_ip"]) == ("icmp", "10.77.0.1", "10.77.0.2")


def test_icmp6_echo_and_garbage() -> None:
    echo = dpkt.icmp6.ICMP6(type=129, data=dpkt.icmp6.ICMP6.Echo(id=3, seq=9, data=b"y" * 8))
    ip6 = dpkt.ip6.IP6(
        src=socket.inet_pton(socket.AF_INET6, "fd00::2"),
        dst=socket.inet_pton(socket.AF_INET6, "fd00::1"),
        nxt=58,
        hlim=64,
        data=echo,
    )
    ip6.plen = len(bytes(echo))
    got = describe(eth(ip6, dpkt.ethernet.ETH_TYPE_IP6))
    assert got["summary"] == "IP6 fd00::2 > fd00::1: ICMP6, echo reply, id 3, seq 9, length 16"
    assert describe(b"\x01\x02")["summary"] == " [|ether]"  # as tcpdump prints it
