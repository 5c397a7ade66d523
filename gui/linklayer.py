"""Links drawn in bulk: the link layer (every plain link's line and labels in one
paint, under the nodes) and the label layer (labels that would hide under a node,
drawn above them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen, QRegion
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from .drawing import MIN_LABEL_SCALE, draw_labels
from .theme import Theme

if TYPE_CHECKING:
    from .items import LinkItem

STRIP, MAX_STRIPS = 120.0, 8  # a moved line is repainted in pieces this long, at most


class LinkLayer(QGraphicsItem):
    """Every plain link, its line and its end labels, drawn in one paint under the nodes.

    A repaint anywhere (a state dot, a dragged node) redraws every item whose bounding
    box meets it, and a long diagonal's box meets a lot: one drawLines over the lines
    in view costs far less than hundreds of separate link paints. Link items that are
    not plain (selected, marked, pending, curved) draw themselves.
    """

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self.theme = theme
        self.links: list[LinkItem] = []
        self._bounds = QRectF()
        self.exposed_region: QRegion | None = None  # set by the view during its paint
        self.interactive = False  # a drag is going on: speed over smoothness
        self.above = LabelLayer(self)  # add it to the scene next to this layer
        self.setZValue(-0.5)

    def fit_cache(self, scale: float, viewport: QRectF) -> None:
        """Zoomed out (the whole drawing about a screenful): repaint the lines from a
        picture while state dots blink. Zoomed in, such a picture would be huge."""
        shown = self._bounds.width() * scale * self._bounds.height() * scale
        small = shown <= 4 * viewport.width() * viewport.height()
        cache = QGraphicsItem.CacheMode
        mode = cache.DeviceCoordinateCache if small else cache.NoCache
        if self.cacheMode() != mode:
            self.setCacheMode(mode)

    def set_interactive(self, on: bool) -> None:
        if on != self.interactive:
            self.interactive = on
            if not on:
                self.update()  # the final picture, smooth

    def add(self, link: LinkItem) -> None:
        link.layer = self
        self.links.append(link)
        self.above.track(link, link.crowded)
        self.changed(link.boundingRect())
        link.update_contents()

    def remove(self, link: LinkItem) -> None:
        if link in self.links:
            self.links.remove(link)
            self.above.track(link, False)
            link.layer = None
            self.changed(link.boundingRect())
            link.update_contents()

    def changed(self, area: QRectF) -> None:
        """A link moved or changed style: redraw where it was and where it is."""
        if not self._bounds.contains(area):
            self.prepareGeometryChange()  # grows only: rare, and never per drag step
            self.above.prepareGeometryChange()
            self._bounds = self._bounds.united(area).adjusted(-200, -200, 200, 200)
        self.update(area)
        self.above.update(area)

    def redraw_along(self, lines: list[QLineF], boxes: list[QRectF]) -> None:
        """Repaint narrow strips along `lines` (and the label boxes), not their bounding
        boxes: a long diagonal's box covers half the view and everything in it."""
        for line in lines:
            rect = QRectF(line.p1(), line.p2()).normalized()
            if not self._bounds.contains(rect):
                self.changed(rect.adjusted(-4, -4, 4, 4))
                continue
            pieces = min(MAX_STRIPS, max(1, int(line.length() / STRIP)))
            x, y, dx, dy = line.x1(), line.y1(), line.dx() / pieces, line.dy() / pieces
            for i in range(pieces):
                left, right = sorted((x + i * dx, x + (i + 1) * dx))
                top, bottom = sorted((y + i * dy, y + (i + 1) * dy))
                self.update(QRectF(left - 4, top - 4, right - left + 8, bottom - top + 8))
        for box in boxes:
            self.update(box)
            self.above.update(box)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        shown = option.exposedRect
        labels = option.levelOfDetailFromTransform(painter.worldTransform()) >= MIN_LABEL_SCALE
        # The repaint is often many small areas (dots, a dragged node's links) whose
        # bounding box covers most of the view: test labels against the areas themselves
        # (the view says which, in scene coordinates, while it paints).
        region = self.exposed_region
        lines: list[QLineF] = []
        boxes: list[tuple[QRectF, str]] = []
        for link in self.links:
            if not link.drawn_by_layer or not shown.intersects(link.line_rect):
                continue
            if region is not None and not region.intersects(link.line_rect.toAlignedRect()):
                continue
            lines.append(link.line)
            if labels and not link.crowded:
                boxes += [
                    box
                    for box in link.label_boxes
                    if shown.intersects(box[0])
                    and (region is None or region.intersects(box[0].toAlignedRect()))
                ]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not self.interactive)
        painter.setPen(QPen(self.theme.link, 1.8))
        painter.drawLines(lines)
        draw_labels(painter, self.theme, boxes)


class LabelLayer(QGraphicsItem):
    """The labels of links too short for them, drawn above the nodes (which would
    otherwise cover them). Clicks go through it to what is below."""

    def __init__(self, links: LinkLayer) -> None:
        super().__init__()
        self.links = links
        self.crowded: dict[LinkItem, None] = {}  # the links whose labels it draws
        self.setZValue(1.5)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def track(self, link: LinkItem, crowded: bool) -> None:
        if crowded:
            self.crowded[link] = None
        else:
            self.crowded.pop(link, None)

    def boundingRect(self) -> QRectF:
        return self.links.boundingRect()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if option.levelOfDetailFromTransform(painter.worldTransform()) < MIN_LABEL_SCALE:
            return
        shown = option.exposedRect
        region = self.links.exposed_region
        boxes = [
            box
            for link in self.crowded
            for box in link.label_boxes
            if shown.intersects(box[0])
            and (region is None or region.intersects(box[0].toAlignedRect()))
        ]
        draw_labels(painter, self.links.theme, boxes)
