"""A netns node's `exec:` (run once, in order, after apply) and `services:` (kept
running while the lab runs): which run after an apply, and as shell lines for `plan`
and the exported script. Each is one `sh -c` command line."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from .topology import Topology


@dataclass(frozen=True)
class NodeCommand:
    node: str
    index: int  # its place in the node's list
    command: str


def startup_commands(topology: Topology) -> list[NodeCommand]:
    return [
        NodeCommand(name, i, command)
        for name, node in topology.nodes()
        if node.kind == "netns"
        for i, command in enumerate(getattr(node, "exec", ()))
    ]


def services(topology: Topology) -> list[NodeCommand]:
    return [
        NodeCommand(name, i, command)
        for name, node in topology.nodes()
        if node.kind == "netns"
        for i, command in enumerate(getattr(node, "services", ()))
    ]


def changed_nodes(before: dict[str, Any] | None, after: dict[str, Any]) -> set[str]:
    """Nodes (of two topology documents) that are new or whose definition changed: their
    `exec:` runs again after the apply (a node left as it was is not re-run)."""
    old = (before or {}).get("nodes", {})
    return {name for name, node in after.get("nodes", {}).items() if old.get(name) != node}


def in_node(node: str, command: str) -> str:
    """The command as a shell line run in the node (what `plan` shows)."""
    return f"ip netns exec {shlex.quote(node)} sh -c {shlex.quote(command)}"


def script_up(topology: Topology) -> list[str]:
    """Lines of the exported script's up(), after the kernel steps."""
    lines = []
    startup, kept = startup_commands(topology), services(topology)
    if startup:
        lines += [
            "",
            "  # Startup commands (exec:), in order; nstopo runs them as the applying user",
        ]
        lines += [f"  {in_node(c.node, c.command)}" for c in startup]
    if kept:
        lines += ["", "  # Services (services:); nstopo also restarts them when they end"]
        lines += [f"  {in_node(c.node, c.command)} </dev/null >/dev/null 2>&1 &" for c in kept]
    return lines


def script_down(topology: Topology) -> list[str]:
    """Lines of the exported script's down(), before the kernel steps: a namespace
    lives on while processes are in it."""
    nodes = sorted({c.node for c in services(topology)})
    return [
        f'  for pid in $(ip netns pids {shlex.quote(n)} 2>/dev/null); do kill "$pid"; done'
        for n in nodes
    ]
