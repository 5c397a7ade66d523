"""Live state drawn on the canvas: a state dot on every interface end (colored by the
kernel's oper state, ringed when it drifted from the document), the kernel's addresses
in the namespace boxes, pending changes highlighted, and the helper's errors next to
the item they concern. Only the items an event is about are touched."""

from __future__ import annotations

from typing import Any

from nstopo.model.live import InterfaceKey, LinkEnd, NodeDevice, Owner, interface_key
from nstopo.model.netem import Netem
from nstopo.model.netem import label as netem_label
from nstopo.model.topology import ChangeSet
from PySide6.QtCore import QObject, QPointF, QRectF, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSimpleTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)
from shiboken6 import isValid

from .drawing import font
from .items import EndMark, LinkItem, NodeItem
from .live import LiveSession
from .scene import EditorScene
from .theme import MISSING_COLOR, OPER_COLORS

FRAME_MS = 30


def shown_oper(live: dict[str, Any]) -> str:
    """The state as `ip link` says it: up without a carrier is NO-CARRIER, and a
    loopback, which has no carrier to report, is UP when up (the kernel says UNKNOWN)."""
    oper = str(live.get("oper"))
    if live.get("up") and oper == "DOWN":
        return "NO-CARRIER"
    if live.get("up") and live.get("name") == "lo" and oper == "UNKNOWN":
        return "UP"
    return oper


def state_color(live: dict[str, Any] | None) -> QColor:
    """Red: set down; amber: up but no carrier (the peer is down); green: up;
    blue: up with an unknown state (tun/tap without a reader)."""
    if live is None:
        return QColor(MISSING_COLOR)
    if not live.get("up"):
        return QColor(OPER_COLORS["DOWN"])
    return QColor(OPER_COLORS.get(shown_oper(live), MISSING_COLOR))


def describe_state(live: dict[str, Any] | None, drifted: list[str]) -> str:
    if live is None:
        return "not in the kernel"
    words = f"{shown_oper(live)}, admin {'up' if live.get('up') else 'down'}, mtu {live.get('mtu')}"
    if live.get("netem"):  # the kernel's impairment of what this end sends
        words += f", netem {netem_label(Netem(**live['netem']))}"
    return words + ("; drift: " + "; ".join(drifted) if drifted else "")


class ErrorNote(QGraphicsSimpleTextItem):
    """The helper's error, in red, next to the item it concerns."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setFont(font("DejaVu Sans", 11))
        self.setBrush(QColor("white"))
        self.setZValue(20)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#8c1d18"), 1))
        painter.setBrush(QColor("#d93025"))
        painter.drawRoundedRect(self.boundingRect().adjusted(-5, -3, 5, 3), 4, 4)
        super().paint(painter, option, widget)

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-6, -4, 6, 4)


class LiveOverlay(QObject):
    def __init__(self, scene: EditorScene, session: LiveSession) -> None:
        super().__init__(scene)
        self.scene, self.session = scene, session
        self.note: ErrorNote | None = None
        self._dirty: set[InterfaceKey] = set()
        self._shown = False  # live state is drawn on the items (to clear when it stops)
        self._frame = QTimer(self)  # at most one canvas update per frame
        self._frame.setSingleShot(True)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self._draw_dirty)
        scene.set_live_addresses(self._live_addresses)
        session.interface_changed.connect(self._interface_changed)
        session.changed.connect(self.refresh)
        session.error.connect(self._show_error)
        scene.doc.edited.connect(self._edited)
        scene.rethemed.connect(self._rethemed)
        self.refresh()

    @property
    def showing(self) -> bool:
        return self.session.running and self.session.connected

    def _live_addresses(self, key: InterfaceKey) -> tuple[str, ...] | None:
        if not self.showing or key not in self.session.links:
            return None
        found = self.session.addresses.get(key, set())
        return tuple(sorted(a for a in found if not a.startswith("fe80:")))

    def mark(self, key: InterfaceKey) -> EndMark | None:
        """The dot for one interface (None: nothing to show, e.g. not deployed yet)."""
        if not self.showing:
            return None
        deployed_owner = self.session.deployed_owners.get(key)
        live = self.session.links.get(key)
        if deployed_owner is None and live is None:
            return None  # a pending new interface: the highlight says it
        drifted = self.drift_of(key)
        return EndMark(state_color(live), bool(drifted))

    def drift_of(self, key: InterfaceKey) -> list[str]:
        return self.session.drift_of(key)

    # -- updates -------------------------------------------------------------------------------
    def _pending(self) -> tuple[frozenset[str], frozenset[str]]:
        """(nodes, links) changed since the deploy: drawn highlighted until applied."""
        changes = self.session.changes() if self.showing else None
        if changes is None:
            return frozenset(), frozenset()
        return changes.nodes, changes.links

    def _edited(self, changes: ChangeSet) -> None:
        """Pending highlights follow edits while a lab runs; with none running (or for
        a move) there is nothing to redraw."""
        if (self.showing or self._shown) and not changes.positions_only:
            self.refresh()

    def refresh(self) -> None:
        """Everything again (after a deploy, a re-sync, an edit); nothing while no lab
        runs and nothing live is drawn."""
        if not self.showing and not self._shown:
            if self.session.last_error is None:
                self._drop_note()
            return
        self._shown = self.showing
        nodes, links = self._pending()
        for lid, item in self.scene.links.items():
            self._update_link(lid, item, lid in links)
        for name, item in self.scene.nodes.items():
            self._update_node(name, item, name in nodes)
        if self.session.last_error is None:
            self._drop_note()

    def _interface_changed(self, ns: str | None, name: str) -> None:
        """Kernel events arrive by the thousand: note what they touch, draw it once
        per frame."""
        self._dirty.add((ns, name))
        if not self._frame.isActive():
            self._frame.start()

    def _draw_dirty(self) -> None:
        dirty, self._dirty = self._dirty, set()
        self._shown = self._shown or self.showing
        nodes, links = self._pending()
        link_ids: set[str] = set()
        node_names: set[str] = set()
        for key in dirty:
            owner = self.session.owners.get(key)
            if isinstance(owner, LinkEnd):
                link_ids.add(owner.link_id)
            elif isinstance(owner, NodeDevice):
                node_names.add(owner.node)
        boxes: set[str] = set()  # namespace boxes whose lines show these interfaces
        # A bridge (tap, tun) is a line of its namespace's box too: redraw both, or
        # br0 stays amber in the hub box while the br0 node turned green.
        boxes.update(ns for ns, _ in dirty if ns is not None and ns in self.scene.nodes)
        for lid in link_ids:
            item = self.scene.links.get(lid)
            if item is not None:
                self._update_link(lid, item, lid in links)
                boxes.update((item.a.name, item.b.name))
        for name in boxes | node_names:
            node = self.scene.nodes.get(name)
            if node is not None:
                self._update_node(name, node, name in nodes, text=name in boxes)

    def _update_link(self, lid: str, item: LinkItem, pending: bool) -> None:
        topo = self.scene.doc.topology
        if not topo.has_link(lid):
            return
        link = topo.link(lid)
        keys = [interface_key(topo, ep.node, ep.interface) for ep in link.endpoints]
        item.show_live((self.mark(keys[0]), self.mark(keys[1])), pending)
        if self.showing:
            tips = [
                f"{ep.short}: {describe_state(self.session.links.get(k), self.drift_of(k))}"
                for ep, k in zip(link.endpoints, keys, strict=True)
            ]
            item.setToolTip("\n".join(tips))

    def _update_node(self, name: str, item: NodeItem, pending: bool, text: bool = False) -> None:
        if name not in self.scene.doc.topology:
            return
        marks: list[QColor | None] = []
        device = None
        if item.kind in ("netns", "host"):
            if text:  # the kernel's addresses in the box (redrawn only if they changed)
                self.scene.refresh_node_text(name)
            for key in self.scene.line_keys(name):
                mark = self.mark(key)
                marks.append(mark.color if mark else None)
        else:
            device_mark = self.mark(interface_key(self.scene.doc.topology, name))
            device = device_mark.color if device_mark else None
        item.show_live(marks, device, pending)

    def _rethemed(self) -> None:
        self.note = None  # went with the old items
        self._shown = self.showing  # the new items carry nothing yet
        self.refresh()

    # -- errors --------------------------------------------------------------------------------
    def _show_error(self, message: str, owner: Owner | None) -> None:
        self._drop_note()
        item: QGraphicsItem | None = None
        if isinstance(owner, LinkEnd):
            item = self.scene.links.get(owner.link_id)
        elif isinstance(owner, NodeDevice):
            item = self.scene.nodes.get(owner.node)
        if item is None:
            return  # the live panel shows it
        self.note = ErrorNote(message)
        self.scene.addItem(self.note)
        rect = item.sceneBoundingRect()
        self.note.setPos(QPointF(rect.right() + 8, rect.top()))
        self.note.setToolTip(message)
        item.setSelected(True)

    def _drop_note(self) -> None:
        if self.note is not None:
            # A rename rebuilds the scene, which deletes the note with the other items.
            if isValid(self.note) and self.note.scene() is self.scene:
                self.scene.removeItem(self.note)
            self.note = None
