"""Export a topology as a containerlab file (`.clab.yml`), as faithfully as it maps.

containerlab builds containers, not bare namespaces, so: a netns node becomes a
`linux` node (an alpine container, its addresses, sysctls and routes set by `exec`);
a bridge inside a namespace is made by that container's `exec` (its ports are the
container's links); a bridge in the host becomes a `bridge` node (containerlab
expects it to exist: the file says so); the host becomes `host`. What cannot map is
listed in the file's header (see docs/containerlab.md): tun/tap devices, loopback
down, MAC addresses.
"""

from __future__ import annotations

import io

from ruamel.yaml import YAML

from .placement import namespace_of_node
from .topology import Topology
from .types import BridgeNode, HostNode, NetnsNode, TapNode, TunNode

IMAGE = "alpine:3.20"


_EXEC_ORDER = ("ip link add", "ip link set", "ip addr", "sysctl", "ip route")


def _exec_rank(line: str) -> int:
    return next(i for i, prefix in enumerate(_EXEC_ORDER) if line.startswith(prefix))


def export_containerlab(topology: Topology) -> str:
    notes: list[str] = []
    nodes: dict[str, dict] = {}
    execs: dict[str, list[str]] = {}
    for name, node in topology.nodes():
        if isinstance(node, NetnsNode):
            nodes[name] = {"kind": "linux", "image": IMAGE}
            execs[name] = []
            if node.loopback == "down":
                notes.append(f"{name}: loopback down (containers always have lo up)")
            for key, value in node.sysctls.items():
                execs[name].append(f"sysctl -w {key}={value}")
            for route in node.routes:
                via = f" via {route.via}" if route.via else ""
                dev = f" dev {route.dev}" if route.dev else ""
                execs[name].append(f"ip route replace {route.to}{via}{dev}")
        elif isinstance(node, BridgeNode):
            home = namespace_of_node(topology.get_node, name)
            if home is not None:
                continue  # made inside its namespace's container, below
            nodes[name] = {"kind": "bridge"}
            notes.append(
                f"{name}: containerlab expects this host bridge to exist "
                f"(ip link add {name} type bridge)"
            )
        elif isinstance(node, TapNode | TunNode):
            notes.append(f"{name}: {node.kind} devices have no containerlab kind")
        elif isinstance(node, HostNode):
            nodes["host"] = {"kind": "host"}
    for name, node in topology.nodes():  # bridges inside namespaces: built by exec
        home = namespace_of_node(topology.get_node, name)
        if isinstance(node, BridgeNode) and home is not None and home in execs:
            execs[home] += [f"ip link add {name} type bridge", f"ip link set {name} up"]
            execs[home] += [f"ip addr add {a} dev {name}" for a in node.addresses]
    links = []
    for _, link in topology.links():
        ends, skip = [], False
        for ep in link.endpoints:
            node = topology.node(ep.node)
            owner = "host" if isinstance(node, HostNode) else ep.node
            home = namespace_of_node(topology.get_node, ep.node)
            if isinstance(node, BridgeNode) and home is not None:
                owner = home  # a port of a bridge inside that container
                if home in execs:
                    execs[home].append(f"ip link set {ep.interface} master {ep.node}")
            if owner not in nodes:
                skip = True
                break
            ends.append(f"{owner}:{ep.interface}")
            if isinstance(node, NetnsNode) or owner != ep.node:
                execs[owner] += [f"ip addr add {a} dev {ep.interface}" for a in ep.addresses]
            elif ep.addresses:
                notes.append(f"{ep.short}: addresses on a {node.kind} end are not set")
        if skip:
            notes.append(
                f"link {link.endpoints[0].short} - {link.endpoints[1].short}: one "
                "end has no containerlab node"
            )
            continue
        entry: dict = {"endpoints": ends}
        if link.mtu:
            entry["mtu"] = link.mtu
        links.append(entry)
    for name, lines in execs.items():
        if lines and name in nodes:
            # Bridges and their ports first, then addresses, then sysctls and routes.
            ordered = sorted(lines, key=_exec_rank)
            nodes[name]["exec"] = ordered
    doc = {"name": topology.name, "topology": {"nodes": nodes, "links": links}}
    out = io.StringIO()
    header = [
        f"# containerlab topology exported by nstopo from lab {topology.name!r}.",
        "# Deploy: sudo containerlab deploy -t THIS_FILE",
    ]
    header += [f"# Not mapped: {note}" for note in notes]
    out.write("\n".join(header) + "\n")
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.dump(doc, out)
    return out.getvalue()
