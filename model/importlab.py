"""What the containerlab and Kathara importers share: the result and its report, shell
lines read into addresses/routes/sysctls, lab names, and the last step that keeps
only what validates (the rest is reported, like everything else not mapped)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .importcmds import Address, NoOp, NotUnderstood, RouteLine, Sysctl, read_command
from .layout import auto_layout
from .names import LAB_NAME_RE
from .schema import describe_path
from .sysctls import sysctl_allowed
from .topology import Topology
from .types import BridgeNode, HostNode, NetnsNode, TapNode, TunNode, replace
from .validate import validate


@dataclass
class Imported:
    topology: Topology
    notes: list[str] = field(default_factory=list)  # what was not mapped, and why

    def not_mapped(self, subject: str, what: str) -> None:
        """The one place an importer records what the topology does not carry."""
        self.notes.append(f"{subject}: {what}")

    def header(self, source: str, tool: str) -> str:
        lines = [f"# Imported by nstopo from the {tool} lab {source}."]
        lines += [f"# Not mapped: {note}" for note in self.notes] or ["# Everything mapped."]
        return "\n".join(lines) + "\n"


def lab_name(name: str, imported: Imported) -> str:
    """A name nstopo accepts (^[a-z0-9][a-z0-9-]{0,23}$) for another tool's lab name."""
    candidate = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:24].strip("-") or "lab"
    if not LAB_NAME_RE.match(candidate):
        candidate = ("lab-" + candidate)[:24].strip("-")
    if candidate != name:
        imported.not_mapped(f'lab name "{name}"', f'named "{candidate}" (nstopo lab names)')
    return candidate


def apply_commands(imported: Imported, node: str, lines: list[str], where: str) -> None:
    """Addresses, routes and sysctls from a node's shell lines; the rest reported."""
    topo = imported.topology
    for line in lines:
        command = read_command(line)
        subject = f"{node}: {where} {line!r}"
        if isinstance(command, NoOp):
            continue
        if isinstance(command, NotUnderstood):
            imported.not_mapped(subject, command.why)
        elif isinstance(command, Address):
            if not add_address(topo, node, command.dev, command.cidr):
                imported.not_mapped(subject, f"{command.dev} is no interface of {node}")
        elif isinstance(command, RouteLine):
            value = topo.node(node)
            if isinstance(value, NetnsNode | HostNode):
                topo.update_node(node, routes=(*value.routes, command.route))
        elif isinstance(command, Sysctl):
            value = topo.node(node)
            if not isinstance(value, NetnsNode) or not sysctl_allowed(command.key):
                imported.not_mapped(subject, "a sysctl nstopo does not set")
                continue
            number = int(command.value) if command.value.lstrip("-").isdigit() else command.value
            topo.update_node(node, sysctls={**value.sysctls, command.key: number})


def add_address(topo: Topology, node: str, dev: str, cidr: str) -> bool:
    """Put an address on `dev` of `node`: a link end there, or a device living there."""
    for lid, link in topo.links():
        ends = list(link.endpoints)
        for index, ep in enumerate(ends):
            home = getattr(topo.node(ep.node), "namespace", None)
            if ep.interface == dev and (ep.node == node or home == node):
                ends[index] = replace(ep, addresses=(*ep.addresses, cidr))
                topo.update_link(lid, endpoints=tuple(ends))
                return True
    device = topo.get_node(dev)
    if isinstance(device, BridgeNode | TapNode | TunNode) and device.namespace == node:
        topo.update_node(dev, addresses=(*device.addresses, cidr))
        return True
    return False


def finish(imported: Imported) -> Imported:
    """Keep what validates (each problem reported and its part left out), then place
    the nodes on the canvas."""
    topo = imported.topology
    for _ in range(20):
        errors = [p for p in validate(topo) if p.is_error]
        if not errors:
            break
        problem = errors[0]
        imported.not_mapped(describe_path(problem.path), problem.message)
        _remove(topo, problem.path)
    for name, position in auto_layout(topo).items():
        topo.update_node(name, position=position)
    return imported


def _remove(topo: Topology, path: tuple) -> None:
    if path[:1] == ("links",) and len(path) >= 2 and path[1] < len(topo.link_ids()):
        lid = topo.link_ids()[path[1]]
        link = topo.link(lid)
        if "addresses" in path and len(path) >= 6:
            ends = list(link.endpoints)
            addresses = list(ends[path[3]].addresses)
            del addresses[path[5]]
            ends[path[3]] = replace(ends[path[3]], addresses=tuple(addresses))
            topo.update_link(lid, endpoints=tuple(ends))
        else:
            topo.remove_link(lid)
    elif path[:1] == ("nodes",) and len(path) >= 2 and path[1] in topo:
        name, value = path[1], topo.node(path[1])
        if len(path) >= 4 and path[2] in ("routes", "addresses") and isinstance(path[3], int):
            items = list(getattr(value, path[2]))
            del items[path[3]]
            topo.update_node(name, **{path[2]: tuple(items)})
        elif len(path) >= 3 and path[2] in ("sysctls", "bridge", "namespace"):
            topo.update_node(name, **{path[2]: {} if path[2] == "sysctls" else None})
        else:
            topo.remove_node(name)
    else:
        raise ValueError(f"cannot leave out {path}")  # a rule this importer cannot fix
