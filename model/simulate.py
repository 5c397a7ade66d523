"""Follow steps on a KernelState without a kernel: what the state is after them.

The helper uses it to roll back a failed apply (diff the state it reached against
the one it started from). Lenient by design: it trusts that the kernel accepted
each step it is given. Tests check plans against a strict, independent model
(tests/kernelsim.py).
"""

from __future__ import annotations

from dataclasses import replace

from . import steps as s
from .state import Device, KernelState


def copy_state(state: KernelState) -> KernelState:
    return KernelState(
        dict(state.namespaces),
        dict(state.devices),
        dict(state.addresses),
        dict(state.routes),
        dict(state.sysctls),
        dict(state.rulesets),
    )


def advance(state: KernelState, step: s.Step) -> None:
    """Change `state` as the kernel does when `step` succeeds."""
    match step:
        case s.AddNetns(name):
            state.namespaces[name] = False
        case s.DelNetns(name):
            for key in [k for k in state.devices if k[0] == name]:
                _drop(state, key)
            state.namespaces.pop(name, None)
            state.routes = {r: None for r in state.routes if r[0] != name}
            state.sysctls = {k: v for k, v in state.sysctls.items() if k[0] != name}
            state.rulesets.pop(name, None)
        case s.AddVeth(ns, name, peer_ns, peer, mtu, mac, peer_mac):
            state.devices[(ns, name)] = Device(
                ns, name, "veth", False, mtu, mac, None, (peer_ns, peer), True
            )
            state.devices[(peer_ns, peer)] = Device(
                peer_ns, peer, "veth", False, mtu, peer_mac, None, (ns, name), False
            )
        case s.AddBridge(ns, name, mtu, mac):
            state.devices[(ns, name)] = Device(ns, name, "bridge", False, mtu, mac)
        case s.AddTuntap(ns, name, mode):
            state.devices[(ns, name)] = Device(ns, name, mode, False)
        case s.DelLink(ns, name):
            _drop(state, (ns, name))
        case s.SetMtu(ns, name, mtu):
            _update(state, ns, name, mtu=mtu)
        case s.SetMac(ns, name, mac):
            _update(state, ns, name, mac=mac)
        case s.SetMaster(ns, name, master):
            _update(state, ns, name, master=master)
        case s.SetState(ns, "lo", up) if ns is not None and (ns, "lo") not in state.devices:
            state.namespaces[ns] = up
        case s.SetState(ns, name, up):
            _update(state, ns, name, up=up)
        case s.AddAddress(ns, dev, address):
            state.addresses[(ns, dev, address)] = None
        case s.DelAddress(ns, dev, address):
            state.addresses.pop((ns, dev, address), None)
        case s.AddRoute(ns, route):
            state.routes[(ns, route)] = None
        case s.DelRoute(ns, route):
            state.routes.pop((ns, route), None)
        case s.SetSysctl(ns, key, value):
            state.sysctls[(ns, key)] = value
        case s.SetNetem(ns, name, netem):
            _update(state, ns, name, netem=netem)
        case s.DelNetem(ns, name):
            _update(state, ns, name, netem=None)
        case s.LoadRuleset(ns, text):
            state.rulesets[ns] = text
        case s.FlushRuleset(ns):
            state.rulesets.pop(ns, None)


def _update(state: KernelState, ns: str | None, name: str, **changes: object) -> None:
    device = state.devices.get((ns, name))
    if device is not None:
        state.devices[(ns, name)] = replace(device, **changes)


def _drop(state: KernelState, key: tuple[str | None, str]) -> None:
    device = state.devices.pop(key, None)
    if device is None:
        return
    state.addresses = {a: None for a in state.addresses if (a[0], a[1]) != key}
    state.routes = {r: None for r in state.routes if not (r[0] == key[0] and r[1].dev == key[1])}
    for other_key, other in list(state.devices.items()):
        if other.ns == device.ns and other.master == device.name:
            state.devices[other_key] = replace(other, master=None)
    if device.peer is not None:
        _drop(state, device.peer)
