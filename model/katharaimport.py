"""A Kathara lab (`lab.conf` and the machines' `.startup` files) as an nstopo topology.

Each machine becomes a netns node; `machine[N]="CD"` puts its interface ethN on
collision domain CD (`"CD/MAC"` with a MAC). A collision domain with two interfaces
is a wire: a veth pair; with one or more than two, a bridge in the host with a port
per interface. `machine[sysctl]` and the `.startup` files (and `shared.startup`) are
read for addresses, routes and sysctls. Images, memory, terminals, bridged mode,
startup lines that do other things: reported as not mapped.
"""

from __future__ import annotations

import re

from .importlab import Imported, apply_commands, finish, lab_name
from .names import interface_name_problem
from .topology import Topology
from .types import BridgeNode, Endpoint, Link, NetnsNode

_ASSIGNMENT = re.compile(r'^([A-Za-z0-9_.-]+)\[([^\]]+)\]\s*=\s*"?([^"]*)"?\s*$')
_METADATA = re.compile(r"^(LAB_[A-Z_]+)\s*=")


def import_kathara(
    lab_conf: str, startups: dict[str, str], directory_name: str = "lab"
) -> Imported:
    """`startups`: machine name (or "shared") -> that .startup file's text."""
    imported = Imported(Topology())
    domains: dict[str, list[tuple[str, str, str | None]]] = {}  # CD -> (machine, if, mac)
    sysctls: dict[str, list[str]] = {}
    name = directory_name
    metadata: list[str] = []
    for number, raw in enumerate(lab_conf.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        meta = _METADATA.match(line)
        if meta:
            if meta.group(1) == "LAB_NAME":
                name = line.split("=", 1)[1].strip().strip('"')
            else:
                metadata.append(meta.group(1))
            continue
        assignment = _ASSIGNMENT.match(line)
        if not assignment:
            imported.not_mapped(f"lab.conf line {number}", f"{line!r} is not machine[key]=value")
            continue
        machine, key, value = assignment.groups()
        if machine not in imported.topology:
            imported.topology.add_node(machine, NetnsNode())
        if key.isdigit():
            domain, _, mac = value.partition("/")
            domains.setdefault(domain, []).append((machine, f"eth{key}", mac or None))
        elif key == "sysctl":
            sysctls.setdefault(machine, []).append(f"sysctl -w {value}")
        else:
            imported.not_mapped(f"{machine}[{key}]", "a Kathara device setting (nstopo makes "
                                "network namespaces, not containers)")  # fmt: skip
    if metadata:
        imported.not_mapped(", ".join(metadata), "lab metadata")
    imported.topology.set_lab(name=lab_name(name, imported))
    _wire(imported, domains)
    for machine, _ in imported.topology.nodes():
        if not isinstance(imported.topology.node(machine), NetnsNode):
            continue
        lines = [*sysctls.get(machine, []), *startups.get("shared", "").splitlines()]
        lines += startups.get(machine, "").splitlines()
        apply_commands(imported, machine, lines, "startup")
    return finish(imported)


def _wire(imported: Imported, domains: dict[str, list[tuple[str, str, str | None]]]) -> None:
    topo = imported.topology
    ports: set[str] = set()
    for domain, members in domains.items():
        ends = [Endpoint(machine, interface, mac=mac) for machine, interface, mac in members]
        if len(ends) == 2:
            topo.add_link(Link((ends[0], ends[1])))
            continue
        bridge = domain if domain not in topo and not interface_name_problem(domain) else ""
        bridge = bridge or _free(f"cd-{domain}"[:15], set(topo.node_names()))
        topo.add_node(bridge, BridgeNode())
        for end in ends:
            port = _free(f"{end.node}-{end.interface}"[:15], ports | set(topo.node_names()))
            ports.add(port)
            topo.add_link(Link((end, Endpoint(bridge, port))))


def _free(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken or interface_name_problem(candidate):
        candidate = re.sub(r"[^A-Za-z0-9_.-]", "-", f"{name[:12]}-{number}")
        number += 1
    return candidate
