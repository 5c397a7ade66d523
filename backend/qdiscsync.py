"""The kernel's root qdiscs of a lab's interfaces, as the model speaks of them: for
status and events (`qdisc`, `netem` on each interface), and for apply, which diffs
against the qdiscs really there, so one changed or deleted by hand with `tc` is
put back (drift repaired) instead of "already up to date".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nstopo.model.netem import DEFAULT_QDISCS, Netem, from_values, same
from nstopo.model.state import KernelState

from .qdisc import RootQdisc
from .realizer import Realizer

# A root qdisc someone else put on a lab interface (pfifo, tbf, ...): never what a
# file asks for, so the plan replaces it with the file's netem or deletes it.
FOREIGN = Netem(limit=0)


def netem_of(root: RootQdisc | None) -> Netem | None:
    """The impairment a root qdisc stands for: None for the device's default."""
    if root is None or root.kind in DEFAULT_QDISCS:
        return None
    if root.kind == "netem" and root.netem is not None:
        return from_values(root.netem)
    return FOREIGN


def qdisc_json(root: RootQdisc | None) -> dict[str, Any]:
    """`qdisc` (its kind, null: none read) and `netem` (the file's keys, null: none)
    for an interface in status and `link.changed` events."""
    if root is None:
        return {"qdisc": None, "netem": None}
    netem = from_values(root.netem) if root.kind == "netem" and root.netem else None
    shown = (
        None
        if netem is None
        else {k: v for k, v in dataclasses.asdict(netem).items() if v is not None}
    )
    return {"qdisc": root.kind, "netem": shown}


def with_kernel_qdiscs(realizer: Realizer, state: KernelState, desired: KernelState) -> KernelState:
    """`state` with each veth's impairment as the kernel has it, in the namespaces
    where a running device is or is to be impaired (reading every namespace of a
    large lab would cost each apply a socket per namespace)."""
    namespaces = {
        key[0]
        for key, device in state.devices.items()
        if device.netem or (key in desired.devices and desired.devices[key].netem)
    }
    if not namespaces:
        return state
    devices = dict(state.devices)
    for ns in namespaces:
        try:
            roots = realizer.root_qdiscs_in(ns)
        except OSError:
            continue  # a namespace that is gone: _current_state already accounts for it
        for key, device in state.devices.items():
            if key[0] == ns and device.kind == "veth" and device.name in roots:
                found = netem_of(roots[device.name])
                if not same(found, device.netem):  # the same in other words: kept
                    devices[key] = dataclasses.replace(device, netem=found)
    return dataclasses.replace(state, devices=devices)
