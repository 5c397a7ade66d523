"""Plan steps: one kernel change each, rendered as the `ip` command a person would type.

The helper executes steps over netlink; `command()` is what the user reads (the
commands panel, `nstopo plan`, exported scripts). `ns` None is the host namespace.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import shlex
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from .netem import Netem, tc_words
from .types import Route

DeviceKind = Literal["veth", "bridge", "tap", "tun"]


def ip(ns: str | None, *args: str) -> str:
    words = ["ip", *(["-n", ns] if ns is not None else []), *args]
    return shlex.join(words)


def tc(ns: str | None, *args: str) -> str:
    """`tc -n NS ...`, like `ip -n NS ...` (iproute2's tc takes the same option)."""
    return shlex.join(["tc", *(["-n", ns] if ns is not None else []), *args])


@dataclass(frozen=True)
class Step:
    op: ClassVar[str] = "step"
    removes: ClassVar[bool] = False  # deleting steps may find their object already gone

    def command(self) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        data = {"op": self.op, **dataclasses.asdict(self)}
        data["command"] = self.command()
        return data


@dataclass(frozen=True)
class AddNetns(Step):
    op: ClassVar[str] = "netns.add"
    name: str

    def command(self) -> str:
        return shlex.join(["ip", "netns", "add", self.name])


@dataclass(frozen=True)
class DelNetns(Step):
    op: ClassVar[str] = "netns.del"
    removes: ClassVar[bool] = True
    name: str

    def command(self) -> str:
        return shlex.join(["ip", "netns", "del", self.name])


def _attrs(mac: str | None, mtu: int | None) -> list[str]:
    return [*(["address", mac] if mac else []), *(["mtu", str(mtu)] if mtu else [])]


@dataclass(frozen=True)
class AddVeth(Step):
    """Both ends at once: the peer is created directly in its namespace."""

    op: ClassVar[str] = "veth.add"
    ns: str | None
    name: str
    peer_ns: str | None
    peer: str
    mtu: int | None = None
    mac: str | None = None
    peer_mac: str | None = None

    def command(self) -> str:
        peer_place = [] if self.peer_ns == self.ns else ["netns", self.peer_ns or "1"]
        return ip(
            self.ns,
            "link",
            "add",
            "name",
            self.name,
            *_attrs(self.mac, self.mtu),
            "type",
            "veth",
            "peer",
            "name",
            self.peer,
            *_attrs(self.peer_mac, self.mtu),
            *peer_place,
        )


@dataclass(frozen=True)
class AddBridge(Step):
    op: ClassVar[str] = "bridge.add"
    ns: str | None
    name: str
    mtu: int | None = None
    mac: str | None = None

    def command(self) -> str:
        return ip(
            self.ns, "link", "add", "name", self.name, *_attrs(self.mac, self.mtu), "type", "bridge"
        )


@dataclass(frozen=True)
class AddTuntap(Step):
    op: ClassVar[str] = "tuntap.add"
    ns: str | None
    name: str
    mode: Literal["tap", "tun"]

    def command(self) -> str:
        return ip(self.ns, "tuntap", "add", "dev", self.name, "mode", self.mode)


@dataclass(frozen=True)
class DelLink(Step):
    """Delete a device; deleting one end of a veth deletes its peer too."""

    op: ClassVar[str] = "link.del"
    removes: ClassVar[bool] = True
    ns: str | None
    name: str
    kind: DeviceKind

    def command(self) -> str:
        if self.kind in ("tap", "tun"):
            return ip(self.ns, "tuntap", "del", "dev", self.name, "mode", self.kind)
        return ip(self.ns, "link", "del", "dev", self.name)


@dataclass(frozen=True)
class SetMtu(Step):
    op: ClassVar[str] = "link.mtu"
    ns: str | None
    name: str
    mtu: int

    def command(self) -> str:
        return ip(self.ns, "link", "set", "dev", self.name, "mtu", str(self.mtu))


@dataclass(frozen=True)
class SetMac(Step):
    op: ClassVar[str] = "link.mac"
    ns: str | None
    name: str
    mac: str

    def command(self) -> str:
        return ip(self.ns, "link", "set", "dev", self.name, "address", self.mac)


@dataclass(frozen=True)
class SetMaster(Step):
    """Enslave to a bridge, or release from it when `master` is None."""

    op: ClassVar[str] = "link.master"
    ns: str | None
    name: str
    master: str | None

    def command(self) -> str:
        tail = ["master", self.master] if self.master else ["nomaster"]
        return ip(self.ns, "link", "set", "dev", self.name, *tail)


@dataclass(frozen=True)
class SetState(Step):
    op: ClassVar[str] = "link.state"
    ns: str | None
    name: str
    up: bool

    def command(self) -> str:
        return ip(self.ns, "link", "set", "dev", self.name, "up" if self.up else "down")


@dataclass(frozen=True)
class AddAddress(Step):
    op: ClassVar[str] = "addr.add"
    ns: str | None
    dev: str
    address: str

    def command(self) -> str:
        # IPv6 without duplicate address detection, as the helper adds it (IFA_F_NODAD):
        # usable at once instead of "tentative" for a second or two.
        nodad = ["nodad"] if ipaddress.ip_interface(self.address).version == 6 else []
        return ip(self.ns, "addr", "add", self.address, "dev", self.dev, *nodad)


@dataclass(frozen=True)
class DelAddress(Step):
    op: ClassVar[str] = "addr.del"
    removes: ClassVar[bool] = True
    ns: str | None
    dev: str
    address: str

    def command(self) -> str:
        return ip(self.ns, "addr", "del", self.address, "dev", self.dev)


def _route_words(route: Route) -> list[str]:
    words = [route.to]
    if route.via:
        words += ["via", route.via]
    if route.dev:
        words += ["dev", route.dev]
    if route.metric is not None:
        words += ["metric", str(route.metric)]
    return words


def route_family(route: Route) -> int:
    probe = route.via if route.to == "default" and route.via else route.to
    try:
        return ipaddress.ip_network(probe, strict=False).version
    except ValueError:
        return 4


@dataclass(frozen=True)
class AddRoute(Step):
    op: ClassVar[str] = "route.add"
    ns: str | None
    route: Route

    def command(self) -> str:
        family = ["-6"] if route_family(self.route) == 6 else []
        return ip(self.ns, *family, "route", "add", *_route_words(self.route))


@dataclass(frozen=True)
class DelRoute(Step):
    op: ClassVar[str] = "route.del"
    removes: ClassVar[bool] = True
    ns: str | None
    route: Route

    def command(self) -> str:
        family = ["-6"] if route_family(self.route) == 6 else []
        return ip(self.ns, *family, "route", "del", *_route_words(self.route))


@dataclass(frozen=True)
class SetSysctl(Step):
    op: ClassVar[str] = "sysctl.set"
    ns: str
    key: str
    value: str

    def command(self) -> str:
        return shlex.join(
            ["ip", "netns", "exec", self.ns, "sysctl", "-qw", f"{self.key}={self.value}"]
        )


@dataclass(frozen=True)
class SetNetem(Step):
    """Impair what an interface sends: a netem qdisc at its root, replacing any
    (the device, its ifindex and its counters stay)."""

    op: ClassVar[str] = "qdisc.netem"
    ns: str | None
    name: str
    netem: Netem

    def command(self) -> str:
        return tc(self.ns, "qdisc", "replace", "dev", self.name, "root", *tc_words(self.netem))


@dataclass(frozen=True)
class DelNetem(Step):
    """Back to the device's default qdisc."""

    op: ClassVar[str] = "qdisc.del"
    removes: ClassVar[bool] = True
    ns: str | None
    name: str

    def command(self) -> str:
        return tc(self.ns, "qdisc", "del", "dev", self.name, "root")


def _nft(ns: str | None, *args: str) -> list[str]:
    return [*(["ip", "netns", "exec", ns] if ns is not None else []), "nft", *args]


@dataclass(frozen=True)
class LoadRuleset(Step):
    """Load nftables text in one transaction (model/nftables.py frames it so that it
    replaces the node's rules, or on the host only the lab's own table)."""

    op: ClassVar[str] = "nft.load"
    ns: str | None
    text: str

    def command(self) -> str:
        # A here-document: the command a person pastes into a shell, rules included.
        return shlex.join(_nft(self.ns, "-f", "-")) + " <<'NFT'\n" + self.text + "NFT"


@dataclass(frozen=True)
class FlushRuleset(Step):
    """Take away what LoadRuleset loaded: a netns's ruleset, or the lab's host table."""

    op: ClassVar[str] = "nft.flush"
    removes: ClassVar[bool] = True
    ns: str | None
    loaded: str  # the text that was loaded (on the host it names the lab's table)

    def command(self) -> str:
        if self.ns is not None:
            return shlex.join(_nft(self.ns, "flush", "ruleset"))
        table = self.loaded.split("\n", 1)[0].removeprefix("table ")
        return shlex.join(_nft(None, "delete", "table", *table.split()))
