"""netem qdiscs over rtnetlink: the requests that set and delete an interface's root
netem, and reading back the root qdiscs of a namespace.

pyroute2's tcmsg and its netem plugin encode and decode the messages; the units are
ours (model/netem.py): delay in 64 ns psched ticks, probabilities as u32, rate in
bytes per second, as `tc` sends them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from nstopo.model.netem import TICK_NS, NetemValues
from pyroute2.netlink import NLM_F_CREATE, NLM_F_REPLACE
from pyroute2.netlink.rtnl import RTM_DELQDISC, RTM_GETQDISC, RTM_NEWQDISC, TC_H_ROOT
from pyroute2.netlink.rtnl.tcmsg import tcmsg

from .rtnl import Request, Rtnl, _request


def replace_netem(index: int, v: NetemValues) -> Request:
    """`tc qdisc replace dev X root netem ...`: whatever root qdisc there was goes,
    the device stays."""
    attrs: list[Any] = []
    if v.reorder:
        attrs.append(["TCA_NETEM_REORDER", {"prob_reorder": v.reorder, "corr_reorder": 0}])
    if v.corrupt:
        attrs.append(["TCA_NETEM_CORRUPT", {"prob_corrupt": v.corrupt, "corr_corrupt": 0}])
    if v.rate_bytes:
        rate = {"rate": v.rate_bytes, "packet_overhead": 0, "cell_size": 0, "cell_overhead": 0}
        attrs.append(["TCA_NETEM_RATE", rate])
    options = {
        "delay": v.delay_ticks,
        "limit": v.limit,
        "loss": v.loss,
        "gap": 1 if v.reorder else 0,  # as tc: reordering needs a gap, 1 by default
        "duplicate": v.duplicate,
        "jitter": v.jitter_ticks,
        "attrs": attrs,
    }
    fields = {"index": index, "handle": 0, "parent": TC_H_ROOT}
    return _request(
        tcmsg,
        RTM_NEWQDISC,
        NLM_F_CREATE | NLM_F_REPLACE,
        fields,
        [("TCA_KIND", "netem"), ("TCA_OPTIONS", options)],
    )


def delete_root(index: int, ignore: frozenset[int] = frozenset()) -> Request:
    """`tc qdisc del dev X root`: the device gets its default qdisc back."""
    fields = {"index": index, "handle": 0, "parent": TC_H_ROOT}
    return _request(tcmsg, RTM_DELQDISC, 0, fields, [], ignore)


@dataclass(frozen=True)
class RootQdisc:
    """The root qdisc of one interface: its kind, and its netem values if netem."""

    index: int
    kind: str
    netem: NetemValues | None = None


def root_qdiscs(sock: Rtnl) -> dict[int, RootQdisc]:
    """The root qdisc of every interface of the namespace, by ifindex."""
    found: dict[int, RootQdisc] = {}
    for msg in sock.dump(tcmsg, RTM_GETQDISC):
        if msg["parent"] != TC_H_ROOT:
            continue
        kind = msg.get_attr("TCA_KIND") or "?"
        netem = netem_values(msg.get_attr("TCA_OPTIONS")) if kind == "netem" else None
        found[msg["index"]] = RootQdisc(msg["index"], kind, netem)
    return found


def netem_values(options: Any) -> NetemValues | None:
    """The values of a netem TCA_OPTIONS as pyroute2 decodes it (a dump, or tc's request)."""
    if options is None:
        return None
    rate = options.get_attr("TCA_NETEM_RATE")
    reorder = options.get_attr("TCA_NETEM_REORDER")
    corrupt = options.get_attr("TCA_NETEM_CORRUPT")
    return NetemValues(
        delay_us=round(options["delay"] * TICK_NS / 1000),
        jitter_us=round(options["jitter"] * TICK_NS / 1000),
        loss=options["loss"],
        duplicate=options["duplicate"],
        reorder=reorder["prob_reorder"] if reorder else 0,
        corrupt=corrupt["prob_corrupt"] if corrupt else 0,
        rate_bytes=rate["rate"] if rate else 0,
        limit=options["limit"],
    )


def decode_root_events(data: bytes) -> list[tuple[bool, RootQdisc]]:
    """(added, root qdisc) for each root qdisc event in a datagram (RTMGRP_TC); a
    deleted one means the device is back to its default."""
    out: list[tuple[bool, RootQdisc]] = []
    offset = 0
    while offset + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, offset)
        if kind in (RTM_NEWQDISC, RTM_DELQDISC):
            msg = tcmsg(data[offset : offset + length])
            msg.decode()
            if msg["parent"] == TC_H_ROOT:
                name = msg.get_attr("TCA_KIND") or "?"
                netem = netem_values(msg.get_attr("TCA_OPTIONS")) if name == "netem" else None
                out.append((kind == RTM_NEWQDISC, RootQdisc(msg["index"], name, netem)))
        offset += (length + 3) & ~3 or len(data)
    return out
