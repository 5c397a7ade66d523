"""Naming rules the kernel and the file format impose."""

from __future__ import annotations

import re

IFNAMSIZ = 16  # the kernel's buffer, including the terminating NUL
LAB_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")
HOST_NAMESPACE_WORD = "host"  # `namespace: host` means the helper's own namespace


def interface_name_problem(name: str) -> str | None:
    """Why `name` cannot be a Linux interface name, or None if it can."""
    problem = _common_problem(name)
    if problem:
        return problem
    size = len(name.encode())
    if size >= IFNAMSIZ:
        return f"is {size} bytes long; interface names are at most {IFNAMSIZ - 1} bytes"
    return None


def namespace_name_problem(name: str) -> str | None:
    """Why `name` cannot name a network namespace (a file in /run/netns), or None."""
    problem = _common_problem(name)
    if problem:
        return problem
    if len(name.encode()) > 255:
        return "is longer than 255 bytes"
    return None


def _common_problem(name: str) -> str | None:
    if not name:
        return "is empty"
    if name in (".", ".."):
        return f'cannot be "{name}"'
    for bad, what in (("/", "a slash"), (":", "a colon")):
        if bad in name:
            return f"contains {what}"
    if any(ch.isspace() for ch in name):
        return "contains white space"
    if not name.isprintable():
        return "contains a control character"
    return None


def fresh_lab_name(taken: set[str] | frozenset[str], stem: str = "lab") -> str:
    """`stem`, or `stem-2`, `stem-3`... : the first that no running lab has (a new
    document must not silently bind to someone's lab of the same name)."""
    if stem not in taken:
        return stem
    n = 2
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


def rename_problem(taken: set[str] | frozenset[str], new: str, is_device: bool) -> str | None:
    """Why a node cannot be renamed to `new` (a bridge, tap or tun node's name is an
    interface name; a namespace's is a file name), or None. `taken`: the other nodes."""
    problem = (interface_name_problem if is_device else namespace_name_problem)(new)
    if problem:
        return f'"{new}" {problem}'
    if new in taken:
        return f'"{new}" is already the name of another node'
    return None
