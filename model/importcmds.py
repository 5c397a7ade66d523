"""Shell lines from other tools' labs (containerlab `exec:`, Kathara `.startup` files)
read as what nstopo can say: addresses, routes, sysctls. Anything else is returned as
not understood, so the importer can report it instead of dropping it.

Understood: `ip [-4|-6] addr|address add ADDR dev DEV`, `ip [-6] route add|replace
TO [via GW] [dev DEV] [metric N]`, `ifconfig DEV ADDR[/LEN] [netmask MASK] [up]`,
`route add default gw GW` / `route add -net NET netmask MASK gw GW`,
`sysctl [-w] KEY=VALUE`, `echo V > /proc/sys/...`; `ip link set DEV up` changes
nothing (nstopo brings interfaces up).
"""

from __future__ import annotations

import ipaddress
import shlex
from dataclasses import dataclass

from .types import Route


@dataclass(frozen=True)
class Address:
    dev: str
    cidr: str


@dataclass(frozen=True)
class RouteLine:
    route: Route


@dataclass(frozen=True)
class Sysctl:
    key: str
    value: str


@dataclass(frozen=True)
class NoOp:
    """Understood, and nothing to map (an interface brought up)."""


@dataclass(frozen=True)
class NotUnderstood:
    why: str


Command = Address | RouteLine | Sysctl | NoOp | NotUnderstood

_ADDR_WORDS = {"a", "addr", "address"}
_ROUTE_WORDS = {"r", "ro", "route"}
_ADD_WORDS = {"add", "replace", "append", "change"}


def read_command(line: str) -> Command:
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return NotUnderstood("not a shell command nstopo can read")
    if not words:
        return NoOp()
    if words[:1] == ["echo"] and len(words) == 4 and words[2] == ">" and "/proc/sys/" in words[3]:
        return Sysctl(words[3].removeprefix("/proc/sys/").replace("/", "."), words[1])
    if words[0] == "sysctl":
        settings = [w for w in words[1:] if not w.startswith("-")]
        if len(settings) == 1 and "=" in settings[0]:
            key, _, value = settings[0].partition("=")
            return Sysctl(key.strip(), value.strip())
    if words[0] == "ip":
        return _ip(words[1:])
    if words[0] == "ifconfig":
        return _ifconfig(words[1:])
    if words[0] == "route":
        return _route(words[1:])
    return NotUnderstood("not an address, route or sysctl")


def _ip(words: list[str]) -> Command:
    while words and words[0] in ("-4", "-6"):
        words = words[1:]
    if not words:
        return NotUnderstood("an ip command without an object")
    obj, rest = words[0], words[1:]
    if obj in ("l", "link") and rest[:1] == ["set"]:
        args = [w for w in rest[1:] if w != "dev"]
        if len(args) == 2 and args[1] == "up":
            return NoOp()
        return NotUnderstood("a link setting nstopo takes from the link itself")
    if obj in _ADDR_WORDS and rest[:1] == ["add"]:
        dev, address = None, None
        args, index = rest[1:], 0
        while index < len(args):
            word = args[index]
            value = args[index + 1] if index + 1 < len(args) else None
            if word == "dev" and value:
                dev, index = value, index + 2
            elif word == "local" and value:
                address, index = value, index + 2
            elif word in ("brd", "broadcast", "label", "scope") and value:
                index += 2  # what the kernel derives or only names
            elif word in ("nodad", "noprefixroute"):
                index += 1
            elif address is None and _is_interface(word):
                address, index = word, index + 1
            else:
                return NotUnderstood(f'an address option ("{word}") nstopo does not set')
        if dev and address and "/" in address:
            return Address(dev, address)
        return NotUnderstood("an address without dev or prefix length")
    if obj in _ROUTE_WORDS and rest[:1] and rest[0] in _ADD_WORDS:
        return _ip_route(rest[1:])
    return NotUnderstood("an ip command other than addr add, route add or link set up")


def _ip_route(args: list[str]) -> Command:
    if not args:
        return NotUnderstood("a route without a destination")
    to, via, dev, metric = _destination(args[0]), None, None, None
    index = 1
    while index < len(args):
        word = args[index]
        value = args[index + 1] if index + 1 < len(args) else None
        if word == "via" and value:
            via = value
        elif word == "dev" and value:
            dev = value
        elif word in ("metric", "preference", "priority") and value and value.isdigit():
            metric = int(value)
        elif word in ("proto", "scope") and value:
            pass  # the kernel's bookkeeping
        else:
            return NotUnderstood(f'a route option ("{word}") nstopo routes do not have')
        index += 2
    if to is None:
        return NotUnderstood(f'a route to "{args[0]}", which is no network')
    return RouteLine(Route(to, via=via, dev=dev, metric=metric))


def _ifconfig(args: list[str]) -> Command:
    if len(args) < 2:
        return NotUnderstood("ifconfig without an address")
    dev, address = args[0], args[1]
    rest = args[2:]
    if "netmask" in rest and rest.index("netmask") + 1 < len(rest):
        mask = rest[rest.index("netmask") + 1]
        try:
            address = str(ipaddress.ip_interface(f"{address}/{mask}"))
        except ValueError:
            return NotUnderstood(f'a netmask "{mask}" nstopo cannot read')
    if "/" not in address or not _is_interface(address):
        return NotUnderstood("ifconfig without a prefix length or netmask")
    return Address(dev, address)


def _route(args: list[str]) -> Command:
    if args[:1] != ["add"]:
        return NotUnderstood("a route command other than route add")
    args = args[1:]
    to, via, dev, mask = None, None, None, None
    index = 0
    while index < len(args):
        word = args[index]
        value = args[index + 1] if index + 1 < len(args) else None
        if word == "default":
            to, index = "default", index + 1
            continue
        if word in ("-net", "-host") and value:
            to = value
        elif word == "netmask" and value:
            mask = value
        elif word == "gw" and value:
            via = value
        elif word == "dev" and value:
            dev = value
        else:
            return NotUnderstood(f'a route option ("{word}") nstopo routes do not have')
        index += 2
    if to is None:
        return NotUnderstood("route add without a destination")
    if to != "default":
        to = _destination(f"{to}/{mask}" if mask else to)
        if to is None:
            return NotUnderstood("a route destination nstopo cannot read")
    return RouteLine(Route(to, via=via, dev=dev))


def _destination(text: str) -> str | None:
    if text == "default":
        return "default"
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_interface(text: str) -> bool:
    try:
        ipaddress.ip_interface(text)
    except ValueError:
        return False
    return True
