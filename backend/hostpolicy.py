"""The host namespace is foreign territory: what a lab may add there.

A lab's `host` node may give its own host-side interfaces addresses and routes, but
only ones that overlap nothing the host already has. Otherwise one member of the
helper's group could take over the host's routing: a route to 0.0.0.0/1 and
128.0.0.0/1 through a lab veth, or a lab address equal to the host's own address or
its gateway's, moved the host's traffic into the lab, where a capture read it.

Refused: the default route; a route wider than /8 (IPv4) or /16 (IPv6), which takes
over a large part of the host's traffic even where the host has no route of its
own; a route or an address whose network overlaps (covers or lies inside) any route
or address the host has on an interface that is not this lab's. The host's default
route is the one exception to "overlaps": every route lies inside it, and a more
specific lab route is exactly what a lab is for. IPv6 link-local networks are
per-interface and never conflict.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from nstopo.model.types import Route

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MIN_PREFIX = {4: 8, 6: 16}
_LINK_LOCAL = (ipaddress.ip_network("fe80::/10"), ipaddress.ip_network("ff00::/8"))


@dataclass(frozen=True)
class HostEntry:
    network: Network  # a route's destination, or an address's subnet
    device: str | None  # the interface it is on (None: none, e.g. a blackhole route)
    what: str  # in words, for the error: "the host's route to 10.0.0.0/8 dev eth0"


@dataclass(frozen=True)
class HostView:
    """What the host namespace has, read from the kernel before the apply."""

    entries: tuple[HostEntry, ...]

    def conflicts(self, network: Network, lab_devices: set[str]) -> HostEntry | None:
        if _link_local(network):
            return None
        for entry in self.entries:
            if entry.device in lab_devices or entry.network.version != network.version:
                continue
            if entry.network.prefixlen == 0 or _link_local(entry.network):
                continue  # the host's default route: every lab route lies inside it
            if network.overlaps(entry.network):
                return entry
        return None


def _link_local(network: Network) -> bool:
    return any(network.version == ll.version and network.subnet_of(ll) for ll in _LINK_LOCAL)


def route_problem(route: Route, view: HostView, lab_devices: set[str]) -> str | None:
    """Why a lab may not add this route to the host, or None."""
    if route.to == "default":
        return (
            "a lab may not set the host's default route; route only the lab's own "
            "subnets through it"
        )
    network = ipaddress.ip_network(route.to, strict=False)
    if network.prefixlen < MIN_PREFIX[network.version]:
        return (
            f"route {route.to} in the host namespace is wider than "
            f"/{MIN_PREFIX[network.version]} and would take over the host's traffic; "
            "route only the lab's own subnets"
        )
    clash = view.conflicts(network, lab_devices)
    if clash is not None:
        return (
            f"route {route.to} in the host namespace overlaps {clash.what}; nstopo "
            "never changes where the host's own traffic goes: use a subnet the host "
            "does not use"
        )
    return None


def address_problem(address: str, device: str, view: HostView, lab_devices: set[str]) -> str | None:
    """Why a lab may not put this address on its host-side interface, or None."""
    network = ipaddress.ip_interface(address).network
    clash = view.conflicts(network, lab_devices)
    if clash is not None:
        return (
            f"address {address} on {device} in the host namespace overlaps "
            f"{clash.what}; use a subnet the host does not use"
        )
    return None
