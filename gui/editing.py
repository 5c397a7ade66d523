"""Editing the shown document: the Edit menu (select all, cut, copy, paste, duplicate,
delete), View → Auto layout, and the edit half of the canvas's context menu (rename,
delete, properties; paste here, add here). The window's menus and the context menu
call these; the document view they act on is asked for each time (documents change).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from nstopo.model.edit import PASTE_OFFSET, pasted
from nstopo.model.layout import auto_layout
from nstopo.model.problems import TopologyFileError
from nstopo.model.schema import to_document, topology_from_document
from nstopo.model.topology import Topology
from nstopo.model.types import replace
from PySide6.QtCore import QMimeData, QPoint, QPointF
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu, QStatusBar

from .commands import MoveNodes, Paste, Remove
from .document import Document
from .docview import DocumentView
from .editmenu import edit_items
from .scene import EditorScene
from .view import CanvasView

CLIP_MIME = "application/x-nstopo-selection"


class Editing:
    def __init__(
        self,
        current: Callable[[], DocumentView],
        status: QStatusBar,
        raise_dock: Callable[[str], None],
    ) -> None:
        self._current, self._status, self._raise_dock = current, status, raise_dock

    @property
    def doc(self) -> Document:
        return self._current().doc

    @property
    def scene(self) -> EditorScene:
        return self._current().scene

    @property
    def view(self) -> CanvasView:
        return self._current().view

    def select_all(self) -> None:
        self.scene.select(list(self.scene.nodes), list(self.scene.links))

    def fill_menu(self, menu: QMenu, kind: str, key: str, where: QPoint) -> None:
        """The context menu's edit half (gui/editmenu.py), for a right-click at `where`."""
        at = self.view.mapToScene(self.view.viewport().mapFromGlobal(where))
        foreign = self.doc.foreign_nodes if kind == "node" else self.doc.foreign_links
        read_only = key in foreign
        edit_items(menu, self, kind, key, at, self.scene.selected_names(), read_only)

    def rename_node(self, node: str) -> object:
        return self.view.rename(node)

    def delete_items(self, nodes: list[str], links: list[str]) -> None:
        self.scene.select(nodes, links)
        self.delete_selection()

    def show_properties(self, nodes: list[str], links: list[str]) -> None:
        self.scene.select(nodes, links)
        self._raise_dock("Inspector")

    def can_paste(self) -> bool:
        return bool(self._clipboard_bytes())

    @staticmethod
    def _clipboard_bytes() -> bytes:
        """Copied nodes on the clipboard (empty when it holds something else or nothing)."""
        mime = QGuiApplication.clipboard().mimeData()
        return bytes(mime.data(CLIP_MIME).data()) if mime is not None else b""

    def paste_at(self, point: QPointF) -> None:
        """Paste with the copied group's top-left corner where the menu was opened."""
        part = self._clipboard_topology()
        if part is None:
            return
        xs, ys = zip(*(v.position or (0.0, 0.0) for _, v in part.nodes()), strict=True)
        self.paste_topology(part, (point.x() - min(xs), point.y() - min(ys)))

    def add_node_at(self, kind: str, point: QPointF) -> object:
        return self.scene.add_node_at(kind, point)

    def delete_selection(self) -> None:
        nodes, links = self.scene.selected_names()
        nodes = [n for n in nodes if n not in self.doc.foreign_nodes]
        links = [lid for lid in links if lid not in self.doc.foreign_links]
        if nodes or links:
            self.doc.push(Remove(self.doc, nodes, links))

    def _selection_document(self) -> dict | None:
        nodes, _ = self.scene.selected_names()
        if not nodes:
            return None
        chosen = set(nodes)
        part = Topology(self.doc.topology.name, self.doc.topology.subnet)
        for name, value in self.doc.topology.nodes():
            if name in chosen:
                part.add_node(name, value)
        for lid, link in self.doc.topology.links():
            if all(ep.node in chosen for ep in link.endpoints):
                part.add_link(link, lid)
        return to_document(part)

    def copy(self) -> None:
        data = self._selection_document()
        if data is not None:
            mime = QMimeData()
            mime.setData(CLIP_MIME, json.dumps(data).encode())
            QGuiApplication.clipboard().setMimeData(mime)

    def cut(self) -> None:
        self.copy()
        self.delete_selection()

    def paste(self) -> None:
        """Edit → Paste: the copied nodes from the clipboard, if it holds some."""
        part = self._clipboard_topology()
        if part is not None:
            self.paste_topology(part)

    def _clipboard_topology(self) -> Topology | None:
        raw = self._clipboard_bytes()
        if not raw:
            return None
        try:
            part = topology_from_document(json.loads(raw.decode()))
        except (ValueError, TopologyFileError):
            self._status.showMessage("The clipboard holds no nodes nstopo can paste.", 6000)
            return None
        return part if part.node_names() else None

    def paste_topology(self, part: Topology, offset: tuple[float, float] = PASTE_OFFSET) -> None:
        nodes, links = pasted(self.doc.topology, part, offset)
        if nodes:
            self.doc.push(Paste(self.doc, nodes, links))
            self.scene.select([n for n, _ in nodes])

    def duplicate(self) -> None:
        data = self._selection_document()
        if data is not None:
            self.paste_topology(topology_from_document(data))

    def layout_all(self) -> None:
        positions = auto_layout(self.doc.topology)
        moves = {n: (self.doc.topology.node(n).position, p) for n, p in positions.items()}
        if moves:
            self.doc.push(MoveNodes(self.doc, moves, "Auto layout"))
            self.view.fit()

    @staticmethod
    def lay_out_quietly(doc: Document) -> None:
        """Positions for a document before it is shown: no command, nothing to redraw."""
        topo = doc.topology
        with topo.batch():
            for name, position in auto_layout(topo).items():
                topo.set_node(name, replace(topo.node(name), position=position))
