"""Export a topology as a runnable, commented bash script with `up` and `down`."""

from __future__ import annotations

import shlex

from .nodecommands import script_down, script_up
from .plan import plan_down, plan_up
from .steps import Step
from .topology import Topology

_HEADINGS = {
    "netns.add": "Network namespaces: each starts with only `lo`, and `lo` is DOWN",
    "bridge.add": "Bridges: a bridge with no ports does nothing yet",
    "tuntap.add": "tun/tap devices: NO-CARRIER until a program opens them",
    "veth.add": "veth pairs: each is created with its peer already in the far namespace",
    "link.mtu": "MTU",
    "link.mac": "MAC addresses",
    "link.master": "Bridge ports: an enslaved port hands every frame it receives to its bridge",
    "addr.add": "Addresses",
    "link.state": "Bring interfaces up (new devices start DOWN)",
    "sysctl.set": "Per-namespace sysctls",
    "route.add": "Routes (after addresses and links are up, so gateways are reachable)",
    "route.del": "Routes",
    "addr.del": "Addresses",
    "link.del": "Devices in namespaces that stay (veth peers go with them)",
    "netns.del": "Namespaces: deleting one deletes every interface inside it",
}


def export_script(topology: Topology, source: str | None = None) -> str:
    lab = topology.name
    origin = f" from {source}" if source else ""
    lines = [
        "#!/usr/bin/env bash",
        f"# nstopo lab {lab!r}, exported{origin}.",
        "# Each command is what nstopo's helper does over netlink for the same step.",
        "#",
        f"#   sudo bash {shlex.quote(lab)}.sh up      build the lab",
        f"#   sudo bash {shlex.quote(lab)}.sh down    remove it (objects already gone are skipped)",
        "set -euo pipefail",
        "",
        "up() {",
        *_body(list(plan_up(topology)), tolerant=False),
        *script_up(topology),
        "}",
        "",
        "down() {",
        *script_down(topology),
        *_body(list(plan_down(topology)), tolerant=True),
        "}",
        "",
        "# Like `cmd || true`, but quiet: down() removes what may already be gone.",
        "quietly() {",
        '  "$@" 2>/dev/null || true',
        "}",
        "",
        'if [ "$(id -u)" -ne 0 ]; then',
        '  echo "$0: run this as root (it creates network namespaces)" >&2',
        "  exit 1",
        "fi",
        'case "${1:-}" in',
        "  up) up ;;",
        "  down) down ;;",
        '  *) echo "usage: $0 up|down" >&2; exit 2 ;;',
        "esac",
        "",
    ]
    return "\n".join(lines)


def _body(steps: list[Step], tolerant: bool) -> list[str]:
    if not steps:
        return ["  :  # nothing to do"]
    out: list[str] = []
    previous = None
    for step in steps:
        if step.op != previous:
            if previous is not None:
                out.append("")
            out.append(f"  # {_HEADINGS.get(step.op, step.op)}")
            previous = step.op
        out.append(f"  {'quietly ' if tolerant else ''}{step.command()}")
    return out
