"""pcap files as tcpdump writes them: whole frames (snaplen 262144), the kernel's
timestamps, each packet flushed as it is written so a capture ended by a signal keeps
every packet it printed."""

from __future__ import annotations

import struct
from typing import BinaryIO

# As tcpdump: whole frames, also GSO/GRO ones far above the MTU.
SNAPLEN = 262144
LINKTYPE_ETHERNET, LINKTYPE_RAW = 1, 101
_HEADER = struct.Struct("=IHHiIII")  # magic, version 2.4, zone, sigfigs, snaplen, linktype
_RECORD = struct.Struct("=IIII")  # seconds, microseconds, captured length, wire length
_MAGIC_MICROSECONDS = 0xA1B2C3D4


def split_time(nanoseconds: int) -> tuple[int, int]:
    """Seconds and microseconds, as a pcap record holds them and tcpdump prints them
    (libpcap truncates the kernel's nanoseconds, so this does too)."""
    seconds, rest = divmod(nanoseconds, 1_000_000_000)
    return seconds, rest // 1000


class PcapWriter:
    def __init__(self, out: BinaryIO, linktype: int) -> None:
        self.out = out
        out.write(_HEADER.pack(_MAGIC_MICROSECONDS, 2, 4, 0, 0, SNAPLEN, linktype))
        out.flush()

    def write(self, frame: bytes, stamp_ns: int, wire_length: int | None = None) -> None:
        seconds, micros = split_time(stamp_ns)
        data = frame[:SNAPLEN]
        length = max(wire_length or 0, len(frame))
        self.out.write(_RECORD.pack(seconds, micros, len(data), length) + data)
        self.out.flush()
