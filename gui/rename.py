"""Renaming a node on the canvas itself (F2 or a double-click on it), as in a file
manager: a line edit over the node's name, Enter renames (one undo step), Esc or a
click elsewhere leaves it as it was; a name the kernel would refuse is said at the
node and the edit stays open to be corrected."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nstopo.model.names import rename_problem
from nstopo.model.types import BridgeNode, TapNode, TunNode
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QLineEdit

from .commands import RenameNode

if TYPE_CHECKING:
    from .view import CanvasView


class InlineRename(QLineEdit):
    def __init__(self, view: CanvasView, node: str) -> None:
        super().__init__(node, view.viewport())
        self.view, self.node = view, node
        self.setObjectName("inline-rename")
        item = view.editor.nodes[node]
        box = item.sceneBoundingRect()
        top_left = view.mapFromScene(box.topLeft())
        width = max(120, view.mapFromScene(box.topRight()).x() - top_left.x())
        self.setGeometry(top_left.x(), top_left.y(), width, self.sizeHint().height())
        self.selectAll()
        self.show()
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        self._done = False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.commit()
        elif event.key() == Qt.Key.Key_Escape:
            self.finish()
        else:
            super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        if not self._done:  # a click elsewhere: nothing changes
            self.finish()

    def commit(self) -> bool:
        doc = self.view.editor.doc
        new = self.text().strip()
        if new == self.node or not new:
            self.finish()
            return True
        topo = doc.topology
        device = isinstance(topo.node(self.node), BridgeNode | TapNode | TunNode)
        taken = set(topo.node_names()) - {self.node}
        problem = rename_problem(taken, new, device)
        if problem:
            box = self.view.editor.nodes[self.node].sceneBoundingRect()
            self.view.say(problem, QPointF(box.left(), box.bottom()))
            return False
        self._done = True
        doc.push(RenameNode(doc, self.node, new))
        self.finish()
        self.view.editor.select([new])
        return True

    def finish(self) -> None:
        self._done = True
        self.hide()
        self.deleteLater()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        self.view.renaming = None
