"""What a left click on the canvas means: small state objects, not flags in the scene.

A tool decides what a press starts; what it starts is a gesture, which receives the
moves and the release. A press that starts nothing (None) gets Qt's own behaviour:
select, rubber band, drag nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QPointF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsSceneMouseEvent

from .items import NodeItem

if TYPE_CHECKING:
    from .scene import EditorScene


class Gesture:
    """One press-move-release. The default swallows the moves and the release."""

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        pass

    def release(self, event: QGraphicsSceneMouseEvent) -> None:
        pass

    def cancel(self) -> None:
        pass


class LinkGesture(Gesture):
    """Dragging a new veth from a node: a dashed line follows the mouse; released on
    another node, the link is made (or refused with the reason)."""

    def __init__(self, scene: EditorScene, start: NodeItem, where: QPointF) -> None:
        self.scene, self.start = scene, start
        self.line = QGraphicsLineItem(QLineF(start.pos(), where))
        self.line.setPen(QPen(scene.theme.selection, 1.5, Qt.PenStyle.DashLine))
        scene.addItem(self.line)

    def move(self, event: QGraphicsSceneMouseEvent) -> None:
        self.line.setLine(QLineF(self.start.pos(), event.scenePos()))

    def cancel(self) -> None:
        self.scene.removeItem(self.line)

    def release(self, event: QGraphicsSceneMouseEvent) -> None:
        self.scene.removeItem(self.line)
        target = self.scene.node_at(event.scenePos())
        if target is not None:
            self.scene.connect_nodes(self.start.name, target.name, event.scenePos())


class SelectTool:
    """Select and drag; Shift+drag from a node draws a link."""

    name = "select"

    def __init__(self, scene: EditorScene) -> None:
        self.scene = scene

    def press(self, event: QGraphicsSceneMouseEvent, node: NodeItem | None) -> Gesture | None:
        if node is not None and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            return LinkGesture(self.scene, node, event.scenePos())
        return None


class LinkTool(SelectTool):
    """Every drag from a node draws a link (`L`)."""

    name = "link"

    def press(self, event: QGraphicsSceneMouseEvent, node: NodeItem | None) -> Gesture | None:
        return LinkGesture(self.scene, node, event.scenePos()) if node is not None else None


class PingTool(SelectTool):
    """`P`: the first click picks the source, the second the target (a node, or the
    canvas to type an address). `for_check`: the two clicks make a ping check (the
    Checks panel's "Add ping check") instead of pinging, once."""

    name = "ping"

    def __init__(
        self, scene: EditorScene, source: str | None = None, for_check: bool = False
    ) -> None:
        super().__init__(scene)
        self.source, self.for_check = source, for_check

    def press(self, event: QGraphicsSceneMouseEvent, node: NodeItem | None) -> Gesture | None:
        where = event.scenePos()
        if self.source is None:
            if node is None:
                self.scene.message.emit("ping: click the node to ping from", where)
            else:
                self.source = node.name
                what = "check" if self.for_check else "ping"
                self.scene.message.emit(f"{what} from {node.name}: now click the target", where)
        elif self.for_check:
            source, self.source = self.source, None
            self.scene.use_tool("select")  # one check per arming
            self.scene.tool_cancelled.emit()
            self.scene.ping_check_requested.emit(source, node.name if node else "")
        else:
            source, self.source = self.source, None
            if node is None:
                self.scene.ping_address_wanted.emit(source, where)
            else:
                self.scene.ping_requested.emit(source, node.name)
        return Gesture()  # the click is the ping tool's, not a selection
