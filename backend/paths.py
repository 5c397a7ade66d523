"""Where the helper lives on this machine."""

from __future__ import annotations

import os

DEFAULT_SOCKET = "/run/nstopo/helper.sock"
DEFAULT_STATE_DIR = "/var/lib/nstopo"
DEFAULT_GROUP = "nstopo"


def socket_path() -> str:
    """$NSTOPO_SOCKET, else the system socket (design.md §2)."""
    return os.environ.get("NSTOPO_SOCKET") or DEFAULT_SOCKET


def same_directory(path: str, device: int, inode: int) -> bool:
    """Is `path`, as this process sees it, the directory another process saw as
    (device, inode)? (No: the two live in different mount namespaces.)"""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (device, inode)
