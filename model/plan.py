"""diff(current, desired) -> the ordered steps that turn one realized topology into another.

Order: take away (routes, addresses, bridge ports, devices, namespaces), then build
(namespaces, bridges and taps, veth pairs, link attributes, bridge ports, addresses,
up/down, sysctls, routes). Nothing is removed twice: objects inside a namespace that
goes away, and veths whose peer's namespace goes away, vanish with it.

A removed `mtu` returns to 1500. A removed `mac` or sysctl keeps the kernel's current
value: the previous one is unknown (docs/format.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .netem import same
from .state import Device, DeviceKey, KernelState, kernel_state
from .steps import (
    AddAddress,
    AddBridge,
    AddNetns,
    AddRoute,
    AddTuntap,
    AddVeth,
    DelAddress,
    DelLink,
    DelNetem,
    DelNetns,
    DelRoute,
    FlushRuleset,
    LoadRuleset,
    SetMac,
    SetMaster,
    SetMtu,
    SetNetem,
    SetState,
    SetSysctl,
    Step,
)
from .topology import Topology
from .types import Route

DEFAULT_MTU = 1500  # what the kernel gives a new veth, bridge or tap


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def commands(self) -> list[str]:
        return [step.command() for step in self.steps]


def diff(current: Topology | None, desired: Topology | None) -> Plan:
    """Steps that take the kernel from `current` (None: nothing) to `desired`."""
    empty = Topology()
    return diff_states(kernel_state(current or empty), kernel_state(desired or empty))


def diff_states(before: KernelState, after: KernelState) -> Plan:
    """The same for flattened states (the helper passes what it knows is live)."""
    return Plan(tuple(_Differ(before, after).steps()))


def plan_up(topology: Topology) -> Plan:
    return diff(None, topology)


def plan_down(topology: Topology) -> Plan:
    return diff(topology, None)


class _Differ:
    def __init__(self, before: KernelState, after: KernelState) -> None:
        self.before, self.after = before, after
        self.gone_ns = set(before.namespaces) - set(after.namespaces)
        self.new_ns = [n for n in after.namespaces if n not in before.namespaces]
        # Devices that must be (re)created: new ones, and ones whose identity changed.
        self.created: dict[DeviceKey, Device] = {}
        self.deleted: dict[DeviceKey, Device] = {}
        for key, device in after.devices.items():
            old = before.devices.get(key)
            if old is None or not old.same_identity(device) or old.ns in self.gone_ns:
                self.created[key] = device
                if old is not None:
                    self.deleted[key] = old
        for key, device in before.devices.items():
            if key not in after.devices:
                self.deleted[key] = device
        # A recreated veth end takes its peer with it.
        for device in list(self.deleted.values()):
            if device.peer and device.peer in after.devices and device.peer not in self.created:
                self.created[device.peer] = after.devices[device.peer]
                self.deleted.setdefault(device.peer, before.devices[device.peer])

        # Gateway routes go when the device holding their subnet is deleted: redo them.
        self.churned_ns = {ns for ns, _ in self.deleted if ns not in self.gone_ns}

    def route_survives(self, ns: str | None, route: Route) -> bool:
        if route.dev is None and ns in self.churned_ns:
            return False
        return self.survives(ns, route.dev)

    def survives(self, ns: str | None, dev: str | None = None) -> bool:
        if ns in self.gone_ns:
            return False
        return dev is None or (ns, dev) not in self.deleted

    def steps(self) -> list[Step]:
        return [*self.removals(), *self.creations()]

    # -- taking away ----------------------------------------------------------------------
    def removals(self) -> list[Step]:
        b, a = self.before, self.after
        steps: list[Step] = []
        for ns, route in b.routes:
            gone = (ns, route) not in a.routes or not self.route_survives(ns, route)
            if gone and self.survives(ns, route.dev):
                steps.append(DelRoute(ns, route))
        for ns, dev, address in b.addresses:
            if (ns, dev, address) not in a.addresses and self.survives(ns, dev):
                steps.append(DelAddress(ns, dev, address))
        for key, old in b.devices.items():
            new = a.devices.get(key)
            if old.master and key not in self.deleted and new and new.master is None:
                steps.append(SetMaster(old.ns, old.name, None))
        done: set[DeviceKey] = set()
        for key, old in self.deleted.items():
            if key in done or old.ns in self.gone_ns:
                continue
            if old.peer is not None:
                if old.peer[0] in self.gone_ns:
                    continue  # the pair dies with the peer's namespace
                done.add(old.peer)
            steps.append(DelLink(old.ns, old.name, old.kind))
        for ns in b.rulesets:
            if ns not in a.rulesets and ns not in self.gone_ns:
                steps.append(FlushRuleset(ns, b.rulesets[ns]))
        steps.extend(DelNetns(ns) for ns in b.namespaces if ns in self.gone_ns)
        return steps

    # -- building -------------------------------------------------------------------------
    def creations(self) -> list[Step]:
        b, a = self.before, self.after
        steps: list[Step] = [AddNetns(ns) for ns in self.new_ns]
        for device in self.created.values():
            if device.kind == "bridge":
                steps.append(AddBridge(device.ns, device.name, device.mtu, device.mac))
            elif device.kind in ("tap", "tun"):
                steps.append(AddTuntap(device.ns, device.name, device.kind))
        for device in self.created.values():
            if device.kind == "veth" and device.first and device.peer:
                peer = a.devices[device.peer]
                steps.append(
                    AddVeth(
                        device.ns, device.name, peer.ns, peer.name, device.mtu, device.mac, peer.mac
                    )
                )
        for key, device in a.devices.items():
            old = None if key in self.created else b.devices[key]
            inline = old is None and device.kind in ("veth", "bridge")  # set by the add step
            if old is not None and old.mtu is not None and device.mtu is None:
                steps.append(SetMtu(device.ns, device.name, DEFAULT_MTU))  # back to the default
            elif device.mtu is not None and not inline and (old is None or old.mtu != device.mtu):
                steps.append(SetMtu(device.ns, device.name, device.mtu))
            if device.mac is not None and not inline and (old is None or old.mac != device.mac):
                steps.append(SetMac(device.ns, device.name, device.mac))
        for key, device in a.devices.items():
            old = None if key in self.created else b.devices[key]
            if device.master and (old is None or old.master != device.master):
                steps.append(SetMaster(device.ns, device.name, device.master))
        for ns, dev, address in a.addresses:
            if (ns, dev, address) not in b.addresses or not self.survives(ns, dev):
                steps.append(AddAddress(ns, dev, address))
        for key, device in a.devices.items():
            old = None if key in self.created else b.devices[key]
            if (old is None and device.up) or (old is not None and old.up != device.up):
                steps.append(SetState(device.ns, device.name, device.up))
        steps += netem_steps(b, a, self.created)
        for ns, lo_up in a.namespaces.items():
            was_up = b.namespaces.get(ns, False) if ns not in self.gone_ns else False
            if lo_up != was_up:
                steps.append(SetState(ns, "lo", lo_up))
        for (ns, key), value in a.sysctls.items():
            if ns in self.new_ns or b.sysctls.get((ns, key)) != value:
                steps.append(SetSysctl(ns, key, value))
        for ns, route in a.routes:
            if (ns, route) not in b.routes or not self.route_survives(ns, route):
                steps.append(AddRoute(ns, route))
        for ns, text in a.rulesets.items():  # last: `out:` and rules may name any device
            if ns in self.new_ns or b.rulesets.get(ns) != text:
                steps.append(LoadRuleset(ns, text))
        return steps


def netem_steps(
    before: KernelState, after: KernelState, created: dict[DeviceKey, Device]
) -> list[Step]:
    """Replace the qdisc where the impairment changed, delete it where it went; a device
    made anew starts with none (its old qdisc went with it)."""
    steps: list[Step] = []
    for key, device in after.devices.items():
        old = None if key in created else before.devices[key].netem
        if same(old, device.netem):
            continue
        if device.netem:
            steps.append(SetNetem(device.ns, device.name, device.netem))
        else:
            steps.append(DelNetem(device.ns, device.name))
    return steps
