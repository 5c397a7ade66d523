"""Undo commands. Each changes only the model; the scene follows the model's signals.
Undo returns the exact previous document, node and link order included. Each redo and
undo is one batch: observers hear of it once, however many objects it touched."""

from __future__ import annotations

from nstopo.model.checks import Check, renamed
from nstopo.model.edit import ports_after_rename
from nstopo.model.topology import Topology
from nstopo.model.types import Link, Node, replace
from PySide6.QtGui import QUndoCommand

from .document import Document

Position = tuple[float, float]


class Command(QUndoCommand):
    """An undo command whose redo and undo each reach observers as one change set."""

    doc: Document

    def redo(self) -> None:
        with self.doc.topology.batch():
            self.forward()

    def undo(self) -> None:
        with self.doc.topology.batch():
            self.backward()

    def forward(self) -> None:
        raise NotImplementedError

    def backward(self) -> None:
        raise NotImplementedError


class AddNode(Command):
    def __init__(self, doc: Document, name: str, value: Node) -> None:
        super().__init__(f"Add {value.kind} {name}")
        self.doc, self.name, self.value = doc, name, value

    def forward(self) -> None:
        self.doc.topology.add_node(self.name, self.value)

    def backward(self) -> None:
        self.doc.topology.remove_node(self.name)


class AddLink(Command):
    def __init__(self, doc: Document, link: Link) -> None:
        a, b = link.endpoints
        super().__init__(f"Link {a.short} to {b.short}")
        self.doc, self.link = doc, link
        self.link_id = doc.topology.new_link_id()

    def forward(self) -> None:
        self.doc.topology.add_link(self.link, self.link_id)

    def backward(self) -> None:
        self.doc.topology.remove_link(self.link_id)


class Remove(Command):
    """Delete nodes (with their links) and links; undo puts each back in its place."""

    def __init__(self, doc: Document, nodes: list[str], links: list[str]) -> None:
        what = ", ".join(nodes) or f"{len(links)} link(s)"
        super().__init__(f"Delete {what}")
        topo = doc.topology
        self.doc = doc
        doomed_links = set(links) | {lid for n in nodes for lid in topo.link_ids_of(n)}
        self.links = sorted((topo.link_index(lid), lid, topo.link(lid)) for lid in doomed_links)
        self.nodes = sorted((topo.node_index(n), n, topo.node(n), topo.node_uid(n)) for n in nodes)

    def forward(self) -> None:
        topo = self.doc.topology
        for _, lid, _ in self.links:
            topo.remove_link(lid)
        for _, name, _, _ in self.nodes:
            topo.remove_node(name)

    def backward(self) -> None:
        topo = self.doc.topology
        topo.restore_nodes(self.nodes)  # the same nodes again, in their place
        for index, lid, link in self.links:
            topo.add_link(link, lid, index)


class SetNode(Command):
    def __init__(self, doc: Document, name: str, new: Node, text: str = "") -> None:
        super().__init__(text or f"Edit {name}")
        self.doc, self.name, self.old, self.new = doc, name, doc.topology.node(name), new

    def forward(self) -> None:
        self.doc.topology.set_node(self.name, self.new)

    def backward(self) -> None:
        self.doc.topology.set_node(self.name, self.old)


class SetLink(Command):
    def __init__(self, doc: Document, link_id: str, new: Link) -> None:
        super().__init__("Edit link")
        self.doc, self.link_id, self.old, self.new = doc, link_id, doc.topology.link(link_id), new

    def forward(self) -> None:
        self.doc.topology.set_link(self.link_id, self.new)

    def backward(self) -> None:
        self.doc.topology.set_link(self.link_id, self.old)


class RenameNode(Command):
    """A rename; the bridge ports named after the node (`p-<name>`) and the node in the
    document's checks follow it."""

    def __init__(self, doc: Document, old: str, new: str) -> None:
        super().__init__(f"Rename {old} to {new}")
        self.doc, self.old, self.new = doc, old, new
        self._ports: dict[str, Link] = {}  # link id -> the link before the rename
        self.checks = (doc.checks, renamed(doc.checks, old, new))

    # The rename comes first both ways: the scene follows a change set in its order and
    # reads the links as they end, so a link must not name a node it has not renamed yet.
    def forward(self) -> None:
        topo = self.doc.topology
        before = {lid: topo.link(lid) for lid in topo.link_ids_of(self.old)}
        topo.rename_node(self.old, self.new)
        following = ports_after_rename(topo, self.old, self.new)
        self._ports = {lid: before[lid] for lid in following}
        for lid, link in following.items():
            topo.set_link(lid, link)
        if self.checks[1] != self.checks[0]:
            self.doc.set_checks(self.checks[1])

    def backward(self) -> None:
        topo = self.doc.topology
        topo.rename_node(self.new, self.old)
        for lid, link in self._ports.items():
            topo.set_link(lid, link)
        if self.checks[1] != self.checks[0]:
            self.doc.set_checks(self.checks[0])


class SetLab(Command):
    def __init__(self, doc: Document, name: str, subnet: str | None) -> None:
        super().__init__("Edit lab settings")
        topo = doc.topology
        self.doc, self.old, self.new = doc, (topo.name, topo.subnet), (name, subnet)

    def forward(self) -> None:
        self.doc.topology.set_lab(name=self.new[0], subnet=self.new[1])

    def backward(self) -> None:
        self.doc.topology.set_lab(name=self.old[0], subnet=self.old[1])


class MoveNodes(Command):
    """One drag (or one auto-layout) is one step, however many nodes it moved."""

    def __init__(
        self, doc: Document, moves: dict[str, tuple[Position | None, Position]], text: str = ""
    ) -> None:
        super().__init__(
            text or (f"Move {next(iter(moves))}" if len(moves) == 1 else f"Move {len(moves)} nodes")
        )
        self.doc, self.moves = doc, moves

    def _apply(self, which: int) -> None:
        topo: Topology = self.doc.topology
        for name, positions in self.moves.items():
            topo.set_node(name, replace(topo.node(name), position=positions[which]))

    def forward(self) -> None:
        self._apply(1)

    def backward(self) -> None:
        self._apply(0)


class Paste(Command):
    """Add copied nodes and the links among them, under fresh names."""

    def __init__(self, doc: Document, nodes: list[tuple[str, Node]], links: list[Link]) -> None:
        super().__init__(f"Paste {len(nodes)} node(s)")
        self.doc, self.nodes, self.links = doc, nodes, links
        self.link_ids: list[str] = []

    def forward(self) -> None:
        topo = self.doc.topology
        for name, value in self.nodes:
            topo.add_node(name, value)
        # The first redo picks fresh link ids; later redos reuse them (undo history).
        ids = self.link_ids or [topo.new_link_id() for _ in self.links]
        self.link_ids = [
            topo.add_link(link, lid) for lid, link in zip(ids, self.links, strict=True)
        ]

    def backward(self) -> None:
        topo = self.doc.topology
        for lid in self.link_ids:
            topo.remove_link(lid)
        for name, _ in self.nodes:
            topo.remove_node(name)


class SetChecks(QUndoCommand):
    """Add, edit or remove checks: the document's checks: before and after."""

    def __init__(self, doc: Document, checks: tuple[Check, ...], text: str) -> None:
        super().__init__(text)
        self.doc, self.old, self.new = doc, doc.checks, checks

    def redo(self) -> None:
        self.doc.set_checks(self.new)

    def undo(self) -> None:
        self.doc.set_checks(self.old)


class ReplaceTopology(Command):
    """Make the drawing `target` (a lesson's "Show me"), as one undo step. Nodes in both
    keep their place on the canvas; the lab keeps its name (the lab that runs)."""

    def __init__(self, doc: Document, target: Topology, text: str) -> None:
        super().__init__(text)
        self.doc, self.old = doc, doc.topology.copy()
        self.new = target.copy()
        self.new.set_lab(name=doc.topology.name, subnet=target.subnet or doc.topology.subnet)
        with self.new.batch():
            for name, value in target.nodes():
                if name in doc.topology and doc.topology.node(name).position is not None:
                    self.new.set_node(
                        name, replace(value, position=doc.topology.node(name).position)
                    )

    def _become(self, target: Topology) -> None:
        topo = self.doc.topology
        for lid in topo.link_ids():
            topo.remove_link(lid)
        for name in topo.node_names():
            if name not in target:
                topo.remove_node(name)
        for name, value in target.nodes():
            if name in topo:
                topo.set_node(name, value)
            else:
                topo.add_node(name, value)
        for lid, link in target.links():
            topo.add_link(link, lid)
        topo.set_lab(name=target.name, subnet=target.subnet)

    def forward(self) -> None:
        self._become(self.new)

    def backward(self) -> None:
        self._become(self.old)
