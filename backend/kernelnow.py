"""The state a lab's kernel objects are in now, so apply repairs what changed by hand.

The helper remembers the state its last apply reached (labs.py). Someone may since
have run `ip link set eth0 down`, `ip addr del ...`, `ip link del p0` or removed a
route: diffing the document against the remembered state would then find nothing to
do ("already up to date") while the kernel differs. Before each plan the helper reads
the lab's namespaces and corrects the remembered state with what it finds; the diff
then puts the kernel back.

Only what the lab owns is corrected: its devices, their addresses, its routes and
the namespaces' loopback. Something the kernel has that the lab never made (another
device, a route of the host) is not the lab's business and is not read into it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass

from nstopo.model.simulate import copy_state
from nstopo.model.state import DeviceKey, KernelState
from nstopo.model.steps import route_family
from nstopo.model.types import Route

from . import repair
from .rtnl import AddrInfo, LinkInfo, RouteInfo

NamespaceKey = str | None
MAIN_TABLE = 254


@dataclass(frozen=True)
class Observed:
    """One namespace as the kernel has it."""

    links: list[LinkInfo]
    addresses: list[AddrInfo]
    routes: list[RouteInfo]


def as_observed(state: KernelState, seen: dict[NamespaceKey, Observed]) -> KernelState:
    """`state` corrected by what the namespaces in `seen` hold now (the others, not read,
    are taken as remembered)."""
    names = {ns: {link.name: link for link in found.links} for ns, found in seen.items()}
    missing = {key for key in state.devices if key[0] in seen and key[1] not in names[key[0]]}
    now = repair.without(state, set(), set(), missing) if missing else copy_state(state)
    for key, device in list(now.devices.items()):
        if key[0] not in seen:
            continue
        link = names[key[0]][key[1]]
        by_index = {other.index: other.name for other in seen[key[0]].links}
        master = by_index.get(link.master) if link.master else None
        mac = device.mac
        if mac is not None and link.mac is not None and mac.lower() != link.mac.lower():
            mac = link.mac
        mtu = link.mtu if device.mtu is not None and link.mtu else device.mtu
        now.devices[key] = dataclasses.replace(
            device, up=link.up, mtu=mtu, mac=mac, master=master if master else None
        )
    _correct_addresses(now, seen)
    now.routes = {
        (ns, route): None
        for ns, route in now.routes
        if ns not in seen or _present(route, seen[ns], names[ns])
    }
    for ns in now.namespaces:
        lo = names.get(ns, {}).get("lo")
        if lo is not None:
            now.namespaces[ns] = lo.up
    return now


def _correct_addresses(state: KernelState, seen: dict[NamespaceKey, Observed]) -> None:
    """Addresses gone from a lab device are dropped (apply adds them again); ones added
    by hand are taken in (apply removes them). Link-local IPv6 is the kernel's own."""
    found: dict[DeviceKey, set[ipaddress.IPv4Interface | ipaddress.IPv6Interface]] = {}
    for ns, observed in seen.items():
        by_index = {link.index: link.name for link in observed.links}
        for addr in observed.addresses:
            key = (ns, by_index.get(addr.index, ""))
            if key in state.devices:
                interface = ipaddress.ip_interface(addr.cidr)
                if not (interface.version == 6 and interface.ip.is_link_local):
                    found.setdefault(key, set()).add(interface)
    remembered: dict[DeviceKey, set[ipaddress.IPv4Interface | ipaddress.IPv6Interface]] = {}
    for ns, dev, text in list(state.addresses):
        if ns not in seen or (ns, dev) not in state.devices:
            continue
        interface = ipaddress.ip_interface(text)
        remembered.setdefault((ns, dev), set()).add(interface)
        if interface not in found.get((ns, dev), set()):
            del state.addresses[(ns, dev, text)]
    for (ns, dev), interfaces in found.items():
        for interface in interfaces - remembered.get((ns, dev), set()):
            state.addresses[(ns, dev, interface.with_prefixlen)] = None


def _present(route: Route, observed: Observed, links: dict[str, LinkInfo]) -> bool:
    """Does the kernel still have this route of the lab? Lenient where the file leaves
    a choice to the kernel (the metric when none is given, the device of a gateway)."""
    family = route_family(route)
    to = "default" if route.to == "default" else ipaddress.ip_network(route.to, strict=False)
    via = ipaddress.ip_address(route.via) if route.via else None
    oif = links[route.dev].index if route.dev and route.dev in links else None
    if route.dev and oif is None:
        return False
    for r in observed.routes:
        if r.table != MAIN_TABLE or (4 if r.family == 2 else 6) != family:
            continue
        if (r.to if r.to == "default" else ipaddress.ip_network(r.to, strict=False)) != to:
            continue
        if via is not None and (r.via is None or ipaddress.ip_address(r.via) != via):
            continue
        if oif is not None and r.oif != oif:
            continue
        if route.metric is not None and (r.metric or 0) != route.metric:
            continue
        return True
    return False
