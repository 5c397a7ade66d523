"""pcap filter expressions (`arp`, `icmp and host 10.0.0.1`, ...) compiled by libpcap,
so they mean exactly what they mean to tcpdump, attached to a socket as classic BPF."""

from __future__ import annotations

import ctypes
import ctypes.util
import socket

SO_ATTACH_FILTER = 26
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 12  # DLT_RAW: IP packets without a link header (tun devices)
SNAPLEN = 65535


class FilterError(ValueError):
    pass


class _Insn(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint32),
    ]


class _Program(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.POINTER(_Insn))]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Insn))]


def _libpcap() -> ctypes.CDLL:
    name = ctypes.util.find_library("pcap") or "libpcap.so.0.8"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        raise FilterError("capture filters need libpcap (apt-get install libpcap0.8)") from None
    lib.pcap_open_dead.restype = ctypes.c_void_p
    lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.pcap_compile.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(_Program),
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_uint32,
    ]
    lib.pcap_geterr.restype = ctypes.c_char_p
    lib.pcap_geterr.argtypes = [ctypes.c_void_p]
    lib.pcap_freecode.argtypes = [ctypes.POINTER(_Program)]
    lib.pcap_close.argtypes = [ctypes.c_void_p]
    return lib


def attach(sock: socket.socket, expression: str, linktype: int = LINKTYPE_ETHERNET) -> None:
    """Compile `expression` and attach it to `sock`; FilterError says what is wrong."""
    if not expression.strip():
        return
    lib = _libpcap()
    handle = lib.pcap_open_dead(linktype, SNAPLEN)
    program = _Program()
    try:
        if lib.pcap_compile(handle, ctypes.byref(program), expression.encode(), 1, 0xFFFFFFFF) != 0:
            reason = (lib.pcap_geterr(handle) or b"syntax error").decode()
            raise FilterError(f"the filter {expression!r} is not valid: {reason}")
        fprog = _SockFprog(program.bf_len, program.bf_insns)
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, bytes(fprog))
        lib.pcap_freecode(ctypes.byref(program))
    finally:
        lib.pcap_close(handle)
