"""A containerlab topology (`.clab.yml`) as an nstopo topology, as far as it maps.

containerlab's `linux` nodes become netns nodes (a container is, for the network, a
namespace), `bridge` nodes bridges (in a node's namespace with containerlab's
`name|node` form or `network-mode: container:node`), `host` the host node; links
become veth pairs, with their MTU, MACs and (extended format) addresses. A linux
node's `exec:` lines are read for addresses, routes and sysctls (model/importcmds.py).
Everything else is reported, not dropped: other kinds (routers' images), container
settings (image, binds, ...), macvlan/vxlan/dummy/mgmt-net links, exec lines that do
something else. The result validates (model/importlab.finish).
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .importlab import Imported, apply_commands, finish, lab_name
from .names import interface_name_problem
from .problems import TopologyFileError, error
from .topology import Topology
from .types import BridgeNode, Endpoint, HostNode, Link, NetnsNode

HOST = "host"
NETWORK_KEYS = {"kind", "group", "exec", "network-mode"}  # read; other keys: containers'


def import_containerlab(text: str, source: str = "lab.clab.yml") -> Imported:
    try:
        doc = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise TopologyFileError([error("yaml", f"{source} is not YAML: {exc}")]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("topology"), dict):
        raise TopologyFileError(
            [error("containerlab", f"{source} has no topology: section; is it a .clab.yml?")]
        )
    imported = Imported(Topology())
    imported.topology.set_lab(name=lab_name(str(doc.get("name", "lab")), imported))
    _Reader(doc["topology"], imported).read()
    return finish(imported)


class _Reader:
    def __init__(self, topology: dict[str, Any], imported: Imported) -> None:
        self.section = topology
        self.imported = imported
        self.topo = imported.topology
        self.names: dict[str, str] = {}  # containerlab node -> nstopo node
        self.execs: dict[str, list[str]] = {}

    def note(self, subject: str, what: str) -> None:
        self.imported.not_mapped(subject, what)

    def setting(self, name: str, node: dict[str, Any], key: str) -> Any:
        """A node's setting as containerlab resolves it: node, group, kind, defaults."""
        if key in node:
            return node[key]
        group = (self.section.get("groups") or {}).get(node.get("group"), {}) or {}
        if key in group:
            return group[key]
        kind = node.get("kind") or group.get("kind") or self.defaults().get("kind")
        kinds = (self.section.get("kinds") or {}).get(kind, {}) or {}
        return kinds.get(key, self.defaults().get(key))

    def defaults(self) -> dict[str, Any]:
        return self.section.get("defaults") or {}

    def read(self) -> None:
        nodes = self.section.get("nodes") or {}
        for name, node in nodes.items():
            self.add_node(str(name), node or {})
        for name, node in nodes.items():  # bridges in a namespace, now that all are known
            self.place_bridge(str(name), node or {})
        for index, link in enumerate(self.section.get("links") or []):
            self.add_link(index, link or {})
        for name, lines in self.execs.items():
            apply_commands(self.imported, name, [str(line) for line in lines], "exec")

    def add_node(self, name: str, node: dict[str, Any]) -> None:
        kind = self.setting(name, node, "kind")
        container_keys = sorted(
            {*node, *((self.section.get("groups") or {}).get(node.get("group"), {}) or {})}
            - NETWORK_KEYS
        )
        mode = str(self.setting(name, node, "network-mode") or "")
        if kind == "linux":
            if mode and mode != "none":
                self.note(name, f"network-mode {mode} (it shares another namespace)")
                return
            self.topo.add_node(name, NetnsNode())
            self.names[name] = name
            self.execs[name] = list(self.setting(name, node, "exec") or [])
            if container_keys:
                self.note(
                    name,
                    f"{', '.join(container_keys)} (nstopo makes network namespaces, not "
                    "containers)",
                )
        elif kind == "bridge":
            bridge = name.split("|", 1)[0]
            problem = interface_name_problem(bridge)
            if problem:
                self.note(name, f"the bridge name {problem}")
                return
            self.topo.add_node(bridge, BridgeNode())
            self.names[name] = bridge
        elif kind == "host":
            self.host()
            self.names[name] = HOST
        else:
            self.note(name, f"kind {kind} has no nstopo kind (nstopo draws linux, bridge, host)")

    def place_bridge(self, name: str, node: dict[str, Any]) -> None:
        if self.setting(name, node, "kind") != "bridge" or name not in self.names:
            return
        mode = str(self.setting(name, node, "network-mode") or "")
        home = name.split("|", 1)[1] if "|" in name else None
        if mode.startswith("container:"):
            home = mode.removeprefix("container:")
        if home is not None:
            if (
                self.names.get(home) in self.topo
                and self.topo.node(self.names[home]).kind == "netns"
            ):
                self.topo.update_node(self.names[name], namespace=self.names[home])
            else:
                self.note(name, f"lives in {home}, which is not imported")

    def host(self) -> str:
        if HOST not in self.topo:
            self.topo.add_node(HOST, HostNode())
        return HOST

    def endpoint(self, text_or_dict: Any, where: str) -> Endpoint | None:
        if isinstance(text_or_dict, dict):
            node, interface = text_or_dict.get("node"), text_or_dict.get("interface")
            mac = text_or_dict.get("mac")
        else:
            node, _, interface = str(text_or_dict).partition(":")
            mac = None
        node, interface = str(node), str(interface)
        if node == HOST:
            return Endpoint(self.host(), interface, mac=mac)
        if node in ("mgmt-net", "macvlan"):
            self.note(where, f"a {node} end (nstopo links are veth pairs between its nodes)")
            return None
        if node not in self.names:
            self.note(where, f"{node} is not imported")
            return None
        addresses = []
        if isinstance(text_or_dict, dict):
            addresses = [str(text_or_dict[k]) for k in ("ipv4", "ipv6") if text_or_dict.get(k)]
        return Endpoint(self.names[node], interface, tuple(addresses), mac)

    def add_link(self, index: int, link: dict[str, Any]) -> None:
        where = f"link {index + 1}"
        kind = link.get("type", "veth")
        if kind == "host" and isinstance(link.get("endpoint"), dict):
            ends = [link["endpoint"], f"{HOST}:{link.get('host-interface')}"]
        elif kind == "veth":
            ends = list(link.get("endpoints") or [])
        else:
            self.note(where, f"a {kind} link (nstopo links are veth pairs)")
            return
        if len(ends) != 2:
            self.note(where, "not two endpoints")
            return
        endpoints = [self.endpoint(end, where) for end in ends]
        if None in endpoints:
            return
        a, b = endpoints
        assert a is not None and b is not None
        for key in ("ipv4", "ipv6"):  # short form: one address per end, in order
            for i, address in enumerate(link.get(key) or []):
                if address and i < 2:
                    end = (a, b)[i]
                    new = Endpoint(end.node, end.interface, (*end.addresses, str(address)), end.mac)
                    a, b = (new, b) if i == 0 else (a, new)
        mtu = link.get("mtu")
        for key in sorted(set(link) - {"type", "endpoints", "endpoint", "host-interface",
                                        "mtu", "ipv4", "ipv6"}):  # fmt: skip
            self.note(where, f"its {key} setting")
        self.topo.add_link(Link((a, b), mtu=int(mtu) if isinstance(mtu, int) else None))
