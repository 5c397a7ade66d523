"""What is left of a lab's kernel state once some of it was removed by hand.

The helper remembers the state it reached (labs.py). A namespace deleted with
`ip netns del`, or a host-side device deleted with `ip link del`, takes more with it:
its devices, their addresses, the peers of its veths wherever they are, and the
routes that went through any of those. Apply diffs against what is left, so it
rebuilds exactly what went missing instead of saying "already up to date".
"""

from __future__ import annotations

import ipaddress

from nstopo.model.state import DeviceKey, KernelState


def without(
    state: KernelState,
    namespaces: set[str],
    host_devices: set[str],
    devices: set[DeviceKey] | None = None,
) -> KernelState:
    """`state` minus the namespaces and host devices (or any `devices`) that are gone,
    and what they took."""
    gone: set[DeviceKey] = {key for key in state.devices if key[0] in namespaces}
    gone |= {(None, name) for name in host_devices if (None, name) in state.devices}
    gone |= {key for key in devices or () if key in state.devices}
    gone |= {device.peer for key, device in state.devices.items() if key in gone and device.peer}
    networks = {
        (ns, ipaddress.ip_interface(address).network)
        for ns, dev, address in state.addresses
        if (ns, dev) in gone
    }

    def route_gone(ns: str | None, route: object) -> bool:
        if ns in namespaces:
            return True
        dev, via = getattr(route, "dev", None), getattr(route, "via", None)
        if dev is not None:
            return (ns, dev) in gone
        return via is not None and any(
            n == ns and ipaddress.ip_address(via) in net for n, net in networks
        )

    left = KernelState()
    left.namespaces = {n: up for n, up in state.namespaces.items() if n not in namespaces}
    left.devices = {k: d for k, d in state.devices.items() if k not in gone}
    left.addresses = {a: None for a in state.addresses if (a[0], a[1]) not in gone}
    left.routes = {r: None for r in state.routes if not route_gone(*r)}
    left.sysctls = {k: v for k, v in state.sysctls.items() if k[0] not in namespaces}
    left.rulesets = {k: v for k, v in state.rulesets.items() if k not in namespaces}
    return left
