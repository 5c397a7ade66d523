"""A tiny model of the kernel's behaviour for plan steps, to check diffs by replay.

It applies steps the way the kernel would (deleting a namespace deletes its
devices, deleting one veth end deletes its peer, a deleted device loses its
addresses and routes) and refuses what the kernel refuses (creating what exists,
deleting what does not), so a wrong or mis-ordered plan fails the replay.
"""

from __future__ import annotations

from dataclasses import replace

from nstopo.model import steps as s
from nstopo.model.netem import values
from nstopo.model.plan import DEFAULT_MTU
from nstopo.model.state import Device, KernelState


class KernelRefused(Exception):
    pass


def replay(state: KernelState, plan) -> KernelState:
    k = KernelState(dict(state.namespaces), dict(state.devices), dict(state.addresses),
                    dict(state.routes), dict(state.sysctls))  # fmt: skip
    for step in plan:
        _apply(k, step)
    return k


def _need_ns(k: KernelState, ns) -> None:
    if ns is not None and ns not in k.namespaces:
        raise KernelRefused(f"no namespace {ns}")


def _need_dev(k: KernelState, ns, name) -> Device:
    _need_ns(k, ns)
    if (ns, name) not in k.devices:
        raise KernelRefused(f"no device {name} in {ns}")
    return k.devices[(ns, name)]


def _drop_device(k: KernelState, key) -> None:
    device = k.devices.pop(key)
    k.addresses = {a: None for a in k.addresses if (a[0], a[1]) != key}
    k.routes = {r: None for r in k.routes if not (r[0] == key[0] and r[1].dev == key[1])}
    for other_key, other in list(k.devices.items()):
        if other.master == device.name and other.ns == device.ns:
            k.devices[other_key] = replace(other, master=None)
    if device.peer and device.peer in k.devices:
        _drop_device(k, device.peer)


def _add_device(k: KernelState, device: Device) -> None:
    _need_ns(k, device.ns)
    if device.key in k.devices:
        raise KernelRefused(f"{device.name} exists in {device.ns}")
    k.devices[device.key] = device


def _apply(k: KernelState, step: s.Step) -> None:
    match step:
        case s.AddNetns(name):
            if name in k.namespaces:
                raise KernelRefused(f"namespace {name} exists")
            k.namespaces[name] = False
        case s.DelNetns(name):
            _need_ns(k, name)
            for key in [key for key in k.devices if key[0] == name]:
                if key in k.devices:
                    _drop_device(k, key)
            del k.namespaces[name]
            k.routes = {r: None for r in k.routes if r[0] != name}
            k.sysctls = {x: v for x, v in k.sysctls.items() if x[0] != name}
        case s.AddVeth(ns, name, peer_ns, peer, mtu, mac, peer_mac):
            for where, dev in ((ns, name), (peer_ns, peer)):
                _need_ns(k, where)
                if (where, dev) in k.devices:
                    raise KernelRefused(f"{dev} exists in {where}")
            k.devices[(ns, name)] = Device(ns, name, "veth", False, mtu, mac, None,
                                           (peer_ns, peer), True)  # fmt: skip
            k.devices[(peer_ns, peer)] = Device(peer_ns, peer, "veth", False, mtu, peer_mac, None,
                                                (ns, name), False)  # fmt: skip
        case s.AddBridge(ns, name, mtu, mac):
            _add_device(k, Device(ns, name, "bridge", False, mtu, mac))
        case s.AddTuntap(ns, name, mode):
            _add_device(k, Device(ns, name, mode, False))
        case s.DelLink(ns, name):
            _need_dev(k, ns, name)
            _drop_device(k, (ns, name))
        case s.SetMtu(ns, name, mtu):
            dev = _need_dev(k, ns, name)
            k.devices[(ns, name)] = replace(dev, mtu=mtu)
        case s.SetMac(ns, name, mac):
            k.devices[(ns, name)] = replace(_need_dev(k, ns, name), mac=mac)
        case s.SetMaster(ns, name, master):
            dev = _need_dev(k, ns, name)
            if master is not None and _need_dev(k, ns, master).kind != "bridge":
                raise KernelRefused(f"{master} is not a bridge")
            k.devices[(ns, name)] = replace(dev, master=master)
        case s.SetState(ns, "lo", up) if ns is not None and (ns, "lo") not in k.devices:
            _need_ns(k, ns)
            k.namespaces[ns] = up
        case s.SetState(ns, name, up):
            k.devices[(ns, name)] = replace(_need_dev(k, ns, name), up=up)
        case s.AddAddress(ns, dev, address):
            _need_dev(k, ns, dev)
            if (ns, dev, address) in k.addresses:
                raise KernelRefused(f"{address} exists on {dev}")
            k.addresses[(ns, dev, address)] = None
        case s.DelAddress(ns, dev, address):
            if (ns, dev, address) not in k.addresses:
                raise KernelRefused(f"{address} not on {dev}")
            del k.addresses[(ns, dev, address)]
        case s.AddRoute(ns, route):
            _need_ns(k, ns)
            if route.dev is not None and route.dev != "lo":
                _need_dev(k, ns, route.dev)
            if (ns, route) in k.routes:
                raise KernelRefused(f"route {route} exists")
            k.routes[(ns, route)] = None
        case s.DelRoute(ns, route):
            if (ns, route) not in k.routes:
                raise KernelRefused(f"no route {route}")
            del k.routes[(ns, route)]
        case s.SetSysctl(ns, key, value):
            _need_ns(k, ns)
            k.sysctls[(ns, key)] = value
        case s.SetNetem(ns, name, netem):  # `qdisc replace`: whatever was there
            dev = _need_dev(k, ns, name)
            if not netem:
                raise KernelRefused(f"an empty netem on {name}")
            k.devices[(ns, name)] = replace(dev, netem=netem)
        case s.DelNetem(ns, name):
            dev = _need_dev(k, ns, name)
            if dev.netem is None:
                raise KernelRefused(f"no qdisc to delete on {name}")
            k.devices[(ns, name)] = replace(dev, netem=None)
        case _:
            raise AssertionError(f"unknown step {step!r}")


def comparable(state: KernelState) -> tuple:
    """State without what a replay cannot know: which veth end was created first, and
    sysctls (a value removed from the file stays in the kernel; see docs/format.md)."""
    devices = {
        key: replace(d, first=True, mac=None, mtu=d.mtu or DEFAULT_MTU, netem=_netem(d.netem))
        for key, d in state.devices.items()
    }
    return (state.namespaces, devices, set(state.addresses), set(state.routes))


def _netem(netem):
    """An impairment as what it does to packets (`20ms` and `20000us` are the same)."""
    return values(netem) if netem else None


def settings_reached(reached: KernelState, desired: KernelState) -> bool:
    """Every sysctl and MAC the desired state names has that value in `reached`."""
    macs = all(reached.devices[key].mac == d.mac for key, d in desired.devices.items() if d.mac)
    return macs and desired.sysctls.items() <= reached.sysctls.items()
