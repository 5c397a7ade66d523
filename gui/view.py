"""The canvas widget: zoom (wheel, keys), pan, rubber band, grid, fit, palette drops.

The canvas holds still while one draws: Qt centres a scene smaller than the view and
moves everything when the drawing's bounds change (every drop, every new link), so the
view keeps its own scene rectangle, which only grows to take in what is visible and
what is drawn (Fit starts it afresh). A drop onto a node lands beside it. F2 or a
double-click on a node renames it in place (rename.py)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QToolTip

from .rename import InlineRename
from .scene import EditorScene
from .theme import GRID

KIND_MIME = "application/x-nstopo-kind"


class CanvasView(QGraphicsView):
    def __init__(self, scene: EditorScene) -> None:
        super().__init__(scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setAcceptDrops(True)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)  # the grid, drawn once
        self._scale = 1.0  # the zoom the scene was last told about
        self._panning: QPointF | None = None
        self._held = QRectF()  # the scene rectangle the view shows: it only grows
        self.renaming: InlineRename | None = None
        # Live mode's double-click (a terminal in a namespace); True: it was handled.
        self.node_double_clicked: Callable[[str], bool] | None = None
        scene.message.connect(self.say)
        scene.sceneRectChanged.connect(lambda _rect: self._hold_still())

    @property
    def editor(self) -> EditorScene:
        scene = self.scene()
        assert isinstance(scene, EditorScene)
        return scene

    def say(self, text: str, where: QPointF) -> None:
        """A message at the cursor (an illegal link, a second host...)."""
        QToolTip.showText(self.mapToGlobal(self.mapFromScene(where)), text, self)
        self.window().statusBar().showMessage(text, 6000)  # type: ignore[attr-defined]

    # -- zoom and pan ---------------------------------------------------------------------
    def zoom(self, factor: float) -> None:
        current = self.transform().m11()
        factor = max(0.1 / current, min(factor, 4.0 / current))
        self.scale(factor, factor)
        self._zoomed()

    def _zoomed(self) -> None:
        """Tell the link layer whether the whole drawing is about a screenful at this
        zoom (worth caching its lines as a picture)."""
        self._hold_still()
        self.editor.layer.fit_cache(self.transform().m11(), QRectF(self.viewport().rect()))

    def fit(self) -> None:
        rect = self.editor.content_rect().adjusted(-40, -40, 40, 40)
        if not rect.isEmpty():
            self._held = QRectF()  # afresh: what is drawn, then what is visible
            self._hold_still(rect)
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
            if self.transform().m11() > 1.5:
                self.resetTransform()
                self.scale(1.5, 1.5)
                self.centerOn(rect.center())
            self._hold_still()
            self._zoomed()

    def visible_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def _hold_still(self, content: QRectF | None = None) -> None:
        """Grow the view's scene rectangle to take in the visible area and the drawing
        (with room around it to drag into): a rectangle that never shrinks under the
        view gives Qt no reason to re-centre."""
        if content is None:
            content = self.editor.itemsBoundingRect()
        wanted = self.visible_rect().united(content.adjusted(-400, -400, 400, 400))
        if not self._held.contains(wanted):
            self._held = self._held.united(wanted)
            self.setSceneRect(self._held)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._hold_still()

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1.2)
        elif key == Qt.Key.Key_Minus:
            self.zoom(1 / 1.2)
        elif key == Qt.Key.Key_F and not event.modifiers():
            self.fit()
        elif key == Qt.Key.Key_Escape:
            self.editor.cancel_tool()
        elif key == Qt.Key.Key_F2:
            nodes, _ = self.editor.selected_names()
            if len(nodes) == 1:
                self.rename(nodes[0])
        else:
            super().keyPressEvent(event)

    def rename(self, node: str) -> InlineRename | None:
        """Edit the node's name in place (not for what nstopo did not make)."""
        if node not in self.editor.nodes or node in self.editor.doc.foreign_nodes:
            return None
        if self.renaming is not None:
            self.renaming.finish()
        self.renaming = InlineRename(self, node)
        return self.renaming

    def mouseDoubleClickEvent(self, event) -> None:
        node = self.editor.node_at(self.mapToScene(event.position().toPoint()))
        if node is not None and event.button() == Qt.MouseButton.LeftButton:
            if self.node_double_clicked is None or not self.node_double_clicked(node.name):
                self.rename(node.name)
            return
        super().mouseDoubleClickEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._panning = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(int(self.horizontalScrollBar().value() - delta.x()))
            self.verticalScrollBar().setValue(int(self.verticalScrollBar().value() - delta.y()))
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._panning is not None and event.button() == Qt.MouseButton.MiddleButton:
            self._panning = None
            self.unsetCursor()
            return
        super().mouseReleaseEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        layer = self.editor.layer
        inverse, _ = self.viewportTransform().inverted()
        layer.exposed_region = inverse.map(event.region())
        try:
            super().paintEvent(event)
        finally:
            layer.exposed_region = None

    # -- grid -------------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawBackground(painter, rect)
        if self.transform().m11() != self._scale:  # zoomed by any means: adapt, after paint
            self._scale = self.transform().m11()
            QTimer.singleShot(0, self._zoomed)
        if self.transform().m11() < 0.5:
            return  # too dense to help
        painter.setPen(QPen(self.editor.theme.grid, 0))
        left = int(rect.left() // GRID) * GRID
        top = int(rect.top() // GRID) * GRID
        x = left
        while x < rect.right():
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            x += GRID
        y = top
        while y < rect.bottom():
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            y += GRID

    # -- palette drops ----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(KIND_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(KIND_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        kind = bytes(event.mimeData().data(KIND_MIME)).decode()
        self.editor.add_node_at(kind, self.free_spot(self.mapToScene(event.position().toPoint())))
        event.acceptProposedAction()

    def free_spot(self, point: QPointF) -> QPointF:
        """`point`, or the nearest place below or beside it where a new node does not
        land on one already there (drops and double-clicks at one place stack no more)."""
        taken = [
            item.sceneBoundingRect().adjusted(-10, -10, 10, 10)
            for item in self.editor.nodes.values()
        ]
        step = 2 * GRID
        for ring in range(0, 30):
            for dx, dy in ((0, ring), (ring, 0), (ring, ring), (-ring, ring)):
                spot = QPointF(point.x() + dx * 3 * step, point.y() + dy * step)
                box = QRectF(spot.x() - 80, spot.y() - 25, 160, 50)  # about a new node
                if not any(box.intersects(rect) for rect in taken):
                    return spot
        return point
