"""Hand-built frames for the capture tests: ICMP errors, fragments, neighbour
discovery, VLAN and QinQ tags, unknown ethertypes, frames cut short."""

from __future__ import annotations

import socket
import struct

A_MAC, B_MAC = bytes.fromhex("02000000000a"), bytes.fromhex("02000000000b")


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int = 1, frag: int = 0) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        ident,
        frag,
        64,
        proto,
        0,
        socket.inet_aton(src),
        socket.inet_aton(dst),
    )
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def ipv6(src: str, dst: str, nxt: int, payload: bytes) -> bytes:
    return (
        struct.pack("!IHBB", 6 << 28, len(payload), nxt, 64)
        + socket.inet_pton(socket.AF_INET6, src)
        + socket.inet_pton(socket.AF_INET6, dst)
        + payload
    )


def icmp(kind: int, code: int, rest: bytes) -> bytes:
    message = struct.pack("!BBH", kind, code, 0) + rest
    return message[:2] + struct.pack("!H", checksum(message)) + message[4:]


def udp(sport: int, dport: int, data: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def ether(kind: int, payload: bytes, dst: bytes = B_MAC, src: bytes = A_MAC) -> bytes:
    return dst + src + struct.pack("!H", kind) + payload


def tagged(tags: list[tuple[int, int]], kind: int, payload: bytes) -> bytes:
    """Ethernet with VLAN tags (outermost first): each (tpid, tci)."""
    middle = b"".join(struct.pack("!HH", tpid, tci) for tpid, tci in tags)
    return B_MAC + A_MAC + middle + struct.pack("!H", kind) + payload


def corpus() -> dict[str, bytes]:
    """Named frames, each one tcpdump prints in its own way."""
    a4, b4 = "10.11.0.1", "10.11.0.2"
    a6, b6 = "fd00::1", "fd00::2"
    echo = icmp(8, 0, struct.pack("!HH", 7, 1) + b"x" * 56)
    ping = ipv4(a4, b4, 1, echo)
    quoted_udp = ipv4(b4, a4, 17, udp(40000, 9999, b"hi"))
    quoted_tcp = ipv4(b4, a4, 6, struct.pack("!HHII", 40000, 80, 1, 0))
    arp_request = struct.pack(
        "!HHBBH6s4s6s4s",
        1,
        0x0800,
        6,
        4,
        1,
        A_MAC,
        socket.inet_aton(a4),
        b"\0" * 6,
        socket.inet_aton(b4),
    )
    arp_reply = struct.pack(
        "!HHBBH6s4s6s4s",
        1,
        0x0800,
        6,
        4,
        2,
        B_MAC,
        socket.inet_aton(b4),
        A_MAC,
        socket.inet_aton(a4),
    )
    big = icmp(8, 0, struct.pack("!HH", 7, 2) + b"y" * 1472)
    target = socket.inet_pton(socket.AF_INET6, b6)
    six_echo = icmp(128, 0, struct.pack("!HH", 3, 9) + b"z" * 8)
    hbh = bytes([58, 0, 5, 2, 0, 0, 1, 0])  # next: ICMPv6; router alert option
    mld = icmp(143, 0, struct.pack("!HH", 0, 1) + bytes([4, 0, 0, 0]) + target)
    quoted6 = ipv6(b6, a6, 17, udp(40000, 53, b"q"))
    return {
        "arp request": ether(0x0806, arp_request, dst=b"\xff" * 6),
        "arp reply": ether(0x0806, arp_reply),
        "icmp echo request": ether(0x0800, ping),
        "icmp echo reply": ether(0x0800, ipv4(b4, a4, 1, icmp(0, 0, echo[4:]))),
        "icmp udp port unreachable": ether(
            0x0800, ipv4(a4, b4, 1, icmp(3, 3, b"\0" * 4 + quoted_udp))
        ),
        "icmp tcp port unreachable": ether(
            0x0800, ipv4(a4, b4, 1, icmp(3, 3, b"\0" * 4 + quoted_tcp))
        ),
        "icmp host unreachable": ether(0x0800, ipv4(a4, b4, 1, icmp(3, 1, b"\0" * 4 + quoted_udp))),
        "icmp need to frag": ether(
            0x0800, ipv4(a4, b4, 1, icmp(3, 4, b"\0\0\x05\x00" + quoted_udp))
        ),
        "icmp admin prohibited": ether(
            0x0800, ipv4(a4, b4, 1, icmp(3, 13, b"\0" * 4 + quoted_udp))
        ),
        "icmp time exceeded": ether(0x0800, ipv4(a4, b4, 1, icmp(11, 0, b"\0" * 4 + quoted_udp))),
        "icmp unknown type": ether(0x0800, ipv4(a4, b4, 1, icmp(42, 0, b"\0" * 4))),
        "ip first fragment": ether(0x0800, ipv4(a4, b4, 1, big[:1480], ident=9, frag=0x2000)),
        "ip last fragment": ether(0x0800, ipv4(a4, b4, 1, big[1480:], ident=9, frag=185)),
        "ip unknown protocol": ether(0x0800, ipv4(a4, b4, 253, b"\0" * 12)),
        "tcp syn": ether(
            0x0800,
            ipv4(
                a4,
                b4,
                6,
                struct.pack("!HHIIHHHH", 40000, 80, 1000, 0, (5 << 12) | 0x02, 64240, 0, 0),
            ),
        ),
        "udp": ether(0x0800, ipv4(b4, a4, 17, udp(44151, 9999, b"hi\n"))),
        "icmp6 echo": ether(0x86DD, ipv6(a6, b6, 58, six_echo)),
        "neighbour solicitation": ether(
            0x86DD, ipv6(a6, "ff02::1:ff00:2", 58, icmp(135, 0, b"\0" * 4 + target))
        ),
        "neighbour advertisement": ether(
            0x86DD, ipv6(b6, a6, 58, icmp(136, 0, b"\x60\0\0\0" + target))
        ),
        "router solicitation": ether(
            0x86DD, ipv6("fe80::1", "ff02::2", 58, icmp(133, 0, b"\0" * 4))
        ),
        "mld v2 report with hop-by-hop": ether(0x86DD, ipv6("fe80::1", "ff02::16", 0, hbh + mld)),
        "icmp6 port unreachable": ether(0x86DD, ipv6(a6, b6, 58, icmp(1, 4, b"\0" * 4 + quoted6))),
        "icmp6 packet too big": ether(
            0x86DD, ipv6(a6, b6, 58, icmp(2, 0, b"\0\0\x05\x00" + quoted6))
        ),
        "ipv6 fragment": ether(
            0x86DD, ipv6(a6, b6, 44, bytes([58, 0, 0, 1, 0, 0, 0, 7]) + six_echo)
        ),
        "ipv6 later fragment": ether(
            0x86DD, ipv6(a6, b6, 44, bytes([58, 0, 0, 200, 0, 0, 0, 7]) + b"w" * 16)
        ),
        "vlan 10": tagged([(0x8100, 10)], 0x0800, ping),
        "qinq 100 over 20": tagged([(0x88A8, 100), (0x8100, 20 | 0x2000)], 0x0800, ping),
        "vlan unknown inside": tagged([(0x8100, 30)], 0x88B6, b"\x02" * 42),
        "unknown ethertype": ether(0x88B5, b"\x01" * 46),
        "ethernet cut short": A_MAC + B_MAC[:4],
        "ip header cut short": ether(0x0800, ping[:10]),
        "ip cut short inside icmp": ether(0x0800, ping[:24]),
        "udp cut short": ether(0x0800, ipv4(b4, a4, 17, udp(1, 2, b"hello"))[:24]),
        "ipv6 header cut short": ether(0x86DD, b"\x60" + b"\0" * 20),
        "icmp6 cut short": ether(0x86DD, ipv6(a6, b6, 58, six_echo)[:42]),
        "arp cut short": ether(0x0806, arp_request[:12]),
    }


def send(interface: str, names: list[str]) -> None:
    """Send corpus frames out of `interface` (run inside the namespace that has it)."""
    frames = corpus()
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((interface, 0))
        for name in names:
            sock.send(frames[name])


if __name__ == "__main__":  # python frames.py IFACE NAME... (the tests run it in a lab)
    import sys

    send(sys.argv[1], sys.argv[2:])
