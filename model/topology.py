"""`Topology`: the document every layer shares.

A networkx MultiGraph (two links between the same nodes are legal) behind a small
typed API. Node and link values are immutable dataclasses (`model.types`); every
mutation replaces a value and notifies observers, so the GUI can follow the model
without the model knowing about Qt. Mutations made inside `batch()` reach observers
as one `ChangeSet` when the batch ends (one undo command, one notification), so a
command that touches k objects costs the observers k item updates, not k redraws.

Every node has an identity that survives a rename (`node_uid`): saving uses it to keep
a renamed node's place and comments in the file.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import networkx as nx

from .placement import namespace_of_node
from .types import Endpoint, Link, Node, replace

ChangeKind = Literal[
    "node-added",
    "node-removed",
    "node-changed",
    "node-renamed",
    "link-added",
    "link-removed",
    "link-changed",
    "lab-changed",
]


@dataclass(frozen=True)
class Change:
    """What changed: `key` is a node name or link id (empty for lab-changed);
    `fields`: for node-changed, the names of the fields whose value changed."""

    kind: ChangeKind
    key: str = ""
    old_key: str = ""  # for node-renamed
    fields: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ChangeSet:
    """The changes of one batch (one command), in the order they were made."""

    changes: tuple[Change, ...]

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    @property
    def positions_only(self) -> bool:
        """Only nodes moved: nothing a validation rule or the kernel cares about."""
        return all(c.kind == "node-changed" and c.fields == {"position"} for c in self.changes)

    def keys(self, *kinds: ChangeKind) -> list[str]:
        return [c.key for c in self.changes if c.kind in kinds]


Observer = Callable[[ChangeSet], None]
_uids = itertools.count(1)  # node identities, unique across topologies (copies share them)


class TopologyError(ValueError):
    """A mutation that would break the document's structure (not a validation issue)."""


class Topology:
    """Nodes by name, links by id, plus the lab's name and address pool."""

    def __init__(self, name: str = "lab", subnet: str | None = None) -> None:
        self._name = name
        self._subnet = subnet
        self._graph = nx.MultiGraph()
        self._links: dict[str, tuple[str, str]] = {}  # id -> graph edge ends, in order
        self._link_values: dict[str, Link] = {}  # id -> link, read without the graph
        self._ids = itertools.count()
        self._observers: list[Observer] = []
        self._batch: list[Change] | None = None  # changes held back until the batch ends
        self._depth = 0

    # -- observers -------------------------------------------------------------
    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call `observer` with a ChangeSet after every change, or once at the end of a
        batch; returns a function that stops it."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Observers hear of the changes made inside as one ChangeSet, at the end
        (batches nest: the outermost one notifies). Held back even if the block raises,
        so observers always see what was really changed."""
        if self._depth == 0:
            self._batch = []
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                held, self._batch = self._batch or [], None
                if held:
                    self._deliver(ChangeSet(tuple(held)))

    def _notify(self, change: Change) -> None:
        if self._batch is not None:
            self._batch.append(change)
        else:
            self._deliver(ChangeSet((change,)))

    def _deliver(self, changes: ChangeSet) -> None:
        for observer in list(self._observers):
            observer(changes)

    # -- lab properties --------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def subnet(self) -> str | None:
        return self._subnet

    def set_lab(self, *, name: str | None = None, subnet: str | Literal[False] | None = False):
        """Change the lab's name and/or subnet (pass subnet=None to clear it)."""
        if name is not None:
            self._name = name
        if subnet is not False:
            self._subnet = subnet
        self._notify(Change("lab-changed"))

    # -- nodes -----------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._graph

    def __len__(self) -> int:
        return self._graph.number_of_nodes()

    def node(self, name: str) -> Node:
        try:
            return self._graph.nodes[name]["value"]
        except KeyError:
            raise KeyError(f'no node named "{name}"') from None

    def get_node(self, name: str) -> Node | None:
        return self._graph.nodes[name]["value"] if name in self._graph else None

    def nodes(self) -> Iterator[tuple[str, Node]]:
        yield from self._graph.nodes(data="value")

    def node_names(self) -> list[str]:
        return list(self._graph.nodes)

    def node_index(self, name: str) -> int:
        return self.node_names().index(name)

    def link_index(self, link_id: str) -> int:
        return list(self._links).index(link_id)

    def node_uid(self, name: str) -> int:
        """The node's identity: kept by renames and copies, new for every added node."""
        return self._graph.nodes[name]["uid"]

    def add_node(
        self, name: str, value: Node, index: int | None = None, uid: int | None = None
    ) -> None:
        """Add a node (at position `index` of the node order, for undo; default last).
        `uid`: the identity it had before it was removed (undo), else a new one."""
        if name in self._graph:
            raise TopologyError(f'a node named "{name}" already exists')
        self._graph.add_node(name, value=value, uid=uid if uid is not None else next(_uids))
        if index is not None and index < len(self._graph) - 1:
            order = [n for n in self._graph.nodes if n != name]
            order.insert(index, name)
            self._reorder(order)
        self._notify(Change("node-added", name))

    def restore_nodes(self, entries: list[tuple[int, str, Node, int]]) -> None:
        """Put removed nodes back, each (index, name, value, uid) at its index of the
        node order (undo of a delete): one reordering for all of them."""
        for _, name, _, _ in entries:
            if name in self._graph:
                raise TopologyError(f'a node named "{name}" already exists')
        order = self.node_names()
        for index, name, value, uid in sorted(entries, key=lambda entry: entry[0]):
            self._graph.add_node(name, value=value, uid=uid)
            order.insert(index, name)
        if order != self.node_names():
            self._reorder(order)
        for _, name, _, _ in entries:
            self._notify(Change("node-added", name))

    def _reorder(self, order: list[str]) -> None:
        graph = nx.MultiGraph()
        graph.add_nodes_from((n, self._graph.nodes[n]) for n in order)
        graph.add_edges_from(self._graph.edges(keys=True, data=True))
        self._graph = graph

    def set_node(self, name: str, value: Node) -> None:
        old = self.node(name)
        if old == value:
            return
        self._graph.nodes[name]["value"] = value
        fields = frozenset(
            f.name
            for f in dataclasses.fields(value)
            if type(old) is not type(value) or getattr(old, f.name) != getattr(value, f.name)
        )
        self._notify(Change("node-changed", name, fields=fields))

    def update_node(self, name: str, **changes: object) -> None:
        self.set_node(name, replace(self.node(name), **changes))

    def remove_node(self, name: str) -> list[tuple[str, Link]]:
        """Remove a node and its links; returns the removed links (id, link)."""
        self.node(name)
        removed = [(lid, self.link(lid)) for lid in self.link_ids_of(name)]
        for lid, _ in removed:
            self.remove_link(lid)
        self._graph.remove_node(name)
        self._notify(Change("node-removed", name))
        return removed

    def rename_node(self, old: str, new: str) -> None:
        """Rename a node and every reference to it (link ends, namespace, bridge)."""
        self.node(old)
        if new in self._graph:
            raise TopologyError(f'a node named "{new}" already exists')
        self._graph = nx.relabel_nodes(self._graph, {old: new}, copy=True)
        for lid, (u, v) in list(self._links.items()):
            ends = (new if u == old else u, new if v == old else v)
            self._links[lid] = ends
            link = self._link_values[lid]
            if old not in (u, v):
                continue
            eps = tuple(replace(e, node=new) if e.node == old else e for e in link.endpoints)
            self._graph.edges[(*ends, lid)]["value"] = self._link_values[lid] = replace(
                link, endpoints=eps
            )
        for name, value in list(self.nodes()):
            changes = {
                attr: new for attr in ("namespace", "bridge") if getattr(value, attr, None) == old
            }
            if changes:
                self._graph.nodes[name]["value"] = replace(value, **changes)
        self._notify(Change("node-renamed", new, old))

    # -- links -----------------------------------------------------------------
    def link(self, link_id: str) -> Link:
        try:
            return self._link_values[link_id]
        except KeyError:
            raise KeyError(f'no link with id "{link_id}"') from None

    def links(self) -> Iterator[tuple[str, Link]]:
        values = self._link_values
        for lid in self._links:
            yield lid, values[lid]

    def link_ids(self) -> list[str]:
        return list(self._links)

    def has_link(self, link_id: str) -> bool:
        return link_id in self._links

    def link_ids_of(self, node: str) -> list[str]:
        return [lid for lid, ends in self._links.items() if node in ends]

    def new_link_id(self) -> str:
        while True:
            lid = f"link-{next(self._ids)}"
            if lid not in self._links:
                return lid

    def add_link(self, link: Link, link_id: str | None = None, index: int | None = None) -> str:
        """Add a veth pair; both end nodes must exist. Returns its id. `index` puts it at
        that position of the link order (for undo); default last."""
        a, b = (ep.node for ep in link.endpoints)
        for end in (a, b):
            if end not in self._graph:
                raise TopologyError(f'link end names a missing node "{end}"')
        link_id = link_id or self.new_link_id()
        if link_id in self._links:
            raise TopologyError(f'a link with id "{link_id}" already exists')
        self._graph.add_edge(a, b, key=link_id, value=link)
        self._links[link_id] = (a, b)
        self._link_values[link_id] = link
        if index is not None and index < len(self._links) - 1:
            items = [(k, v) for k, v in self._links.items() if k != link_id]
            items.insert(index, (link_id, (a, b)))
            self._links = dict(items)
        self._notify(Change("link-added", link_id))
        return link_id

    def set_link(self, link_id: str, link: Link) -> None:
        old = self.link(link_id)
        if old == link:
            return
        if {e.node for e in old.endpoints} != {e.node for e in link.endpoints}:
            # Moving an end to another node is a different edge in the graph.
            self._remove_edge(link_id)
            a, b = (ep.node for ep in link.endpoints)
            self._graph.add_edge(a, b, key=link_id, value=link)
            self._links[link_id] = (a, b)
        else:
            u, v = self._links[link_id]
            self._graph.edges[u, v, link_id]["value"] = link
        self._link_values[link_id] = link
        self._notify(Change("link-changed", link_id))

    def update_link(self, link_id: str, **changes: object) -> None:
        self.set_link(link_id, replace(self.link(link_id), **changes))

    def remove_link(self, link_id: str) -> Link:
        link = self.link(link_id)
        self._remove_edge(link_id)
        self._notify(Change("link-removed", link_id))
        return link

    def _remove_edge(self, link_id: str) -> None:
        u, v = self._links.pop(link_id)
        del self._link_values[link_id]
        self._graph.remove_edge(u, v, key=link_id)

    # -- queries ---------------------------------------------------------------
    def neighbors(self, name: str) -> list[str]:
        return list(self._graph.neighbors(name))

    def endpoints_on(self, node: str) -> Iterator[tuple[str, int, Endpoint]]:
        """(link id, end index, endpoint) for every link end placed on `node`."""
        for lid in self.link_ids_of(node):
            for index, ep in enumerate(self.link(lid).endpoints):
                if ep.node == node:
                    yield lid, index, ep

    def graph_view(self) -> nx.MultiGraph:
        """A read-only view for layout and analysis algorithms."""
        return self._graph.copy(as_view=True)

    def copy(self) -> Topology:
        twin = Topology(self._name, self._subnet)
        for name, data in self._graph.nodes(data=True):
            twin.add_node(name, data["value"], uid=data["uid"])
        for lid, link in self.links():
            twin.add_link(link, lid)
        return twin

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Topology):
            return NotImplemented
        return (
            (self._name, self._subnet) == (other._name, other._subnet)
            and list(self.nodes()) == list(other.nodes())
            and list(self.links()) == list(other.links())
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"<Topology {self._name}: {len(self)} nodes, {len(self._links)} links>"


def namespace_of(topology: Topology, node_name: str) -> str | None:
    """The namespace a node's interfaces live in: a netns name, or None for the host."""
    return namespace_of_node(topology.get_node, node_name)
