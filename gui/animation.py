"""Captured packets drawn as dots running along the links they cross: an ARP request
leaving a namespace runs from its end of the veth to the other, the reply runs back.
One timer moves every dot; a burst beyond MAX_DOTS is not drawn."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from nstopo.model.live import LinkEnd, NodeDevice
from PySide6.QtCore import QObject, QPointF, QTimer
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem
from shiboken6 import isValid

from .items import LinkItem, NodeItem
from .live import LiveSession
from .scene import EditorScene

PROTOCOL_COLORS = {
    "arp": "#f29900",
    "icmp": "#1a73e8",
    "icmp6": "#12b5cb",
    "udp": "#188038",
    "tcp": "#a142f4",
    "ip": "#5f6368",
    "other": "#9aa0a6",
}
TRAVEL_S = 0.7  # a dot's trip along a link, slow enough to follow by eye
MAX_DOTS = 150
FRAME_MS = 16


@dataclass
class Flight:
    dot: QGraphicsEllipseItem
    link: LinkItem | None  # None: a pulse on a node (a capture on the bridge itself)
    node: NodeItem | None
    forward: bool  # from end 0 to end 1
    started: float


@dataclass(frozen=True)
class Launch:
    """What was animated, kept for whoever wants to check (tests, the status bar)."""

    link_id: str | None
    node: str | None
    from_end: int | None
    protocol: str
    summary: str


class PacketAnimator(QObject):
    def __init__(self, scene: EditorScene, session: LiveSession) -> None:
        super().__init__(scene)
        self.scene, self.session = scene, session
        self.flights: list[Flight] = []
        self.launches: deque[Launch] = deque(maxlen=200)
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._step)

    def packet(self, params: dict[str, Any]) -> None:
        """A `capture.packet` notification: send a dot where it went."""
        owner = self.session.owners.get((params.get("namespace"), params.get("interface")))
        protocol = params.get("protocol", "other")
        if isinstance(owner, LinkEnd):
            link = self.scene.links.get(owner.link_id)
            if link is None:
                return
            # Leaving this end ("out") travels away from it; arriving ("in") toward it.
            leaving = params.get("direction") == "out"
            forward = (owner.end == 0) == leaving
            self._launch(Flight(self._dot(protocol), link, None, forward, time.monotonic()))
            start = 0 if forward else 1
            self.launches.append(
                Launch(owner.link_id, None, start, protocol, params.get("summary", ""))
            )
        elif isinstance(owner, NodeDevice):
            node = self.scene.nodes.get(owner.node)
            if node is None:
                return
            self._launch(Flight(self._dot(protocol), None, node, True, time.monotonic()))
            self.launches.append(
                Launch(None, owner.node, None, protocol, params.get("summary", ""))
            )

    def _dot(self, protocol: str) -> QGraphicsEllipseItem:
        color = QColor(PROTOCOL_COLORS.get(protocol, PROTOCOL_COLORS["other"]))
        dot = QGraphicsEllipseItem(-6, -6, 12, 12)
        dot.setBrush(QBrush(color))
        dot.setPen(QPen(color.darker(140), 1.5))
        dot.setZValue(10)
        dot.setToolTip(protocol.upper())
        return dot

    def _launch(self, flight: Flight) -> None:
        if len(self.flights) >= MAX_DOTS:  # a burst: the capture list still has them all
            return
        self.scene.addItem(flight.dot)
        self.flights.append(flight)
        self._place(flight, 0.0)
        if not self._timer.isActive():
            self._timer.start()

    def _place(self, flight: Flight, progress: float) -> None:
        if flight.link is not None:
            fraction = progress if flight.forward else 1 - progress
            flight.dot.setPos(flight.link.point_at(fraction))
        elif flight.node is not None:  # a ring that grows and fades on the node
            flight.dot.setPos(flight.node.pos() + QPointF(0, 0))
            flight.dot.setScale(1 + 5 * progress)
            flight.dot.setOpacity(1 - progress)

    def _step(self) -> None:
        now = time.monotonic()
        still = []
        for flight in self.flights:
            progress = (now - flight.started) / TRAVEL_S
            alive = isValid(flight.dot) and flight.dot.scene() is self.scene  # not rebuilt away
            if progress >= 1.0 or not alive:
                if alive:
                    self.scene.removeItem(flight.dot)
                continue
            self._place(flight, progress)
            still.append(flight)
        self.flights = still
        if not still:
            self._timer.stop()
