"""Canvas items: they draw what the scene tells them and report drags; no business logic."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from . import netemdraw
from .drawing import (
    MIN_LABEL_SCALE,
    NAME_FONT,
    TEXT_FONT,
    EndMark,
    StateDot,
    draw_labels,
    elide,
    label_width,
    problem_color,
)
from .theme import KIND_COLORS, Theme, icon_renderer

if TYPE_CHECKING:
    from .linklayer import LinkLayer

NODE_WIDTH = {"netns": 190.0, "host": 190.0, "bridge": 200.0, "tap": 160.0, "tun": 160.0}
HEADER, LINE = 26.0, 16.0
DOT_INSET = 7.0  # a state dot's distance from its node, along the link

__all__ = ["EndMark", "LinkItem", "MemberItem", "NodeItem", "StateDot"]


class NodeItem(QGraphicsObject):
    """A node: a namespace box listing its interfaces, a bridge drawn as a switch, a
    small tap/tun device, or the host."""

    def __init__(self, name: str, kind: str, theme: Theme) -> None:
        super().__init__()
        self.name, self.kind, self.theme = name, kind, theme
        self.lines: list[str] = []
        self.subtitle = ""
        self.problem: tuple[str, bool] | None = None
        self.links: list[LinkItem] = []
        # Live mode: a state dot per interface line (or for the device itself), changes
        # not yet applied, objects that are not the lab's (greyed, read-only).
        self.marks: list[QColor | None] = []
        self.device_mark: QColor | None = None
        self.line_dots: list[StateDot] = []
        self.device_dot: StateDot | None = None
        self.pending = False
        self.foreign = False
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)

    def rename(self, name: str) -> None:
        self.name = name
        self.update()

    def show_state(self, lines: list[str], subtitle: str, problem: tuple[str, bool] | None) -> None:
        """`problem`: (message, is_error) shown as a red (error) or amber (warning) mark."""
        self.prepareGeometryChange()
        size = self.size()
        self.lines, self.subtitle, self.problem = lines, subtitle, problem
        self.setToolTip(problem[0] if problem else "")
        self.update()
        if self.line_dots or self.device_dot:
            self._place_dots()
        if self.size() != size:  # taller or shorter: the links meet its edge elsewhere
            for link in self.links:
                link.follow()

    def show_live(
        self, marks: list[QColor | None], device_mark: QColor | None, pending: bool
    ) -> None:
        if (marks, device_mark, pending) == (self.marks, self.device_mark, self.pending):
            return
        restyled = pending != self.pending or any(marks) != any(self.marks)  # text indent
        self.marks, self.device_mark, self.pending = marks, device_mark, pending
        self._place_dots()
        if restyled:
            self.update()

    def _place_dots(self) -> None:
        """State dots are child items: a kernel event repaints a dot, not the box (whose
        cached picture stays valid)."""
        rect = self.shape_rect()
        while len(self.line_dots) < len(self.marks):
            self.line_dots.append(StateDot(self))
        for i, dot in enumerate(self.line_dots):
            mark = self.marks[i] if i < len(self.marks) else None
            dot.setPos(rect.left() + 10, rect.top() + HEADER + i * LINE + LINE / 2)
            dot.show_state(mark)
        if self.device_dot is None and self.device_mark is not None:
            self.device_dot = StateDot(self)
        if self.device_dot is not None:
            self.device_dot.setPos(rect.right() - 22, rect.top() + HEADER / 2)
            self.device_dot.show_state(self.device_mark)

    def size(self) -> tuple[float, float]:
        width = NODE_WIDTH.get(self.kind, 150.0)
        if self.kind in ("netns", "host"):
            return width, HEADER + max(1, len(self.lines)) * LINE + 6
        return width, HEADER + (LINE if self.subtitle else 4) + 4

    def boundingRect(self) -> QRectF:
        width, height = self.size()
        return QRectF(-width / 2, -height / 2, width, height).adjusted(-3, -3, 3, 3)

    def shape_rect(self) -> QRectF:
        width, height = self.size()
        return QRectF(-width / 2, -height / 2, width, height)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        t, rect = self.theme, self.shape_rect()
        color = QColor(KIND_COLORS.get(self.kind, "#888"))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.foreign:
            color = QColor(t.muted)
        border = problem_color(t, self.problem) or (t.selection if self.isSelected() else color)
        pen = QPen(border, 2.2 if self.isSelected() or self.problem else 1.4)
        if self.pending and not self.isSelected():
            pen = QPen(t.pending, 2.4, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        fill = QColor(color) if self.kind == "bridge" else t.box
        if self.kind == "bridge":
            fill.setAlpha(60 if t.dark else 40)
        painter.setBrush(fill)
        radius = 10.0 if self.kind in ("tap", "tun") else 6.0
        painter.drawRoundedRect(rect, radius, radius)
        header = QRectF(rect.left(), rect.top(), rect.width(), HEADER)
        if self.kind in ("netns", "host"):
            band = QColor(color)
            band.setAlpha(55 if t.dark else 30)
            path = QPainterPath()
            path.addRoundedRect(header, radius, radius)
            painter.fillPath(path, band)
        icon_renderer(self.kind).render(painter, QRectF(rect.left() + 6, rect.top() + 5, 16, 16))
        painter.setPen(t.text)
        painter.setFont(NAME_FONT)
        painter.drawText(
            header.adjusted(28, 0, -6, 0),
            Qt.AlignmentFlag.AlignVCenter,
            elide(self.name, NAME_FONT, header.width() - 34),
        )
        painter.setFont(TEXT_FONT)
        painter.setPen(t.muted)
        texts = self.lines if self.kind in ("netns", "host") else [self.subtitle]
        indent = 18 if any(self.marks) else 8
        for i, text in enumerate(texts):
            top = rect.top() + HEADER + i * LINE
            if text:
                line = QRectF(rect.left() + indent, top, rect.width() - indent - 8, LINE)
                painter.drawText(
                    line, Qt.AlignmentFlag.AlignVCenter, elide(text, TEXT_FONT, line.width())
                )
        if self.problem:
            painter.setBrush(problem_color(t, self.problem))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(QPointF(rect.right() - 8, rect.top() + 8), 4, 4)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for link in self.links:
                link.follow()
        return super().itemChange(change, value)

    def edge_point(self, toward: QPointF) -> QPointF:
        """Where a line from the center toward `toward` leaves the box."""
        rect = self.shape_rect().translated(self.pos())
        center = rect.center()
        dx, dy = toward.x() - center.x(), toward.y() - center.y()
        if dx == 0 and dy == 0:
            return center
        scale = min(
            rect.width() / 2 / abs(dx) if dx else math.inf,
            rect.height() / 2 / abs(dy) if dy else math.inf,
        )
        return QPointF(center.x() + dx * scale, center.y() + dy * scale)


class LinkItem(QGraphicsObject):
    """A veth pair between two node items, with its interface names at its ends. Pairs
    between the same two nodes bend apart (`lane`)."""

    def __init__(self, link_id: str, a: NodeItem, b: NodeItem, theme: Theme) -> None:
        super().__init__()
        self.link_id, self.a, self.b, self.theme = link_id, a, b, theme
        self.labels = ("", "")
        self.down = False
        self.lane = 0
        self.problem: tuple[str, bool] | None = None
        self.end_marks: tuple[EndMark | None, EndMark | None] = (None, None)
        self.pending = False
        self.foreign = False
        self.impairment = ""  # the netem label (gui/netemdraw.py); empty: not impaired
        self.layer: LinkLayer | None = None  # draws this line while it is plain
        self.crowded = False  # a label would hide under a node: the layer above draws it
        self.drawn_by_layer = False  # plain, so the link layer draws it (update_contents)
        self._path = QPainterPath()
        self._state_dots: tuple[StateDot, StateDot] | None = None  # made when first needed
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)  # exposedRect
        self.setZValue(0)
        a.links.append(self)
        b.links.append(self)
        self.follow()

    @property
    def plain(self) -> bool:
        """A straight, unselected, unmarked line: the link layer draws it with all the
        others in one call."""
        return (
            self.lane == 0
            and self.a is not self.b
            and not self.down
            and not self.pending
            and not self.foreign
            and not self.impairment
            and self.problem is None
            and not self.isSelected()
        )

    def update_contents(self) -> None:
        # Plain: the layer draws it, so Qt skips this item in every repaint it overlaps.
        self.drawn_by_layer = self.plain and self.layer is not None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, self.drawn_by_layer)

    def _restyled(self) -> None:
        if self.layer is not None:
            self.layer.changed(self.boundingRect())
        self.update_contents()

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self._restyled()
        return super().itemChange(change, value)

    def detach(self) -> None:
        for end in (self.a, self.b):
            if self in end.links:
                end.links.remove(self)

    def show_state(
        self, labels: tuple[str, str], down: bool, problem: tuple[str, bool] | None
    ) -> None:
        self.prepareGeometryChange()
        restyled = (down, problem) != (self.down, self.problem)
        self.labels, self.down, self.problem = labels, down, problem
        self._place_labels()
        self.setToolTip(problem[0] if problem else f"{labels[0]} ↔ {labels[1]}")
        self.update()
        if restyled:
            self._restyled()

    def show_impairment(self, text: str) -> None:
        if text != self.impairment:
            self.prepareGeometryChange()
            self.impairment = text
            self.update()
            self._restyled()

    def show_live(self, end_marks: tuple[EndMark | None, EndMark | None], pending: bool) -> None:
        if (end_marks, pending) == (self.end_marks, self.pending):
            return
        restyled = pending != self.pending
        self.end_marks, self.pending = end_marks, pending
        if self._state_dots is not None or end_marks != (None, None):  # made when needed
            for dot, mark in zip(self.dots, end_marks, strict=True):
                # Child items: a kernel event repaints a dot, not the whole link.
                ring = self.theme.drift if mark and mark.drift else None
                dot.show_state(mark.color if mark else None, ring)
        if restyled:
            self.update()
            self._restyled()

    @property
    def dots(self) -> tuple[StateDot, StateDot]:
        """The live state dots of the two ends (design mode never needs them)."""
        if self._state_dots is None:
            self._state_dots = (StateDot(self), StateDot(self))
            for dot, point in zip(self._state_dots, self._dots, strict=True):
                dot.setPos(point)
        return self._state_dots

    def point_at(self, fraction: float) -> QPointF:
        return self._path.pointAtPercent(min(max(fraction, 0.0), 1.0))

    def follow(self) -> None:
        self.prepareGeometryChange()
        before = self._path.boundingRect()
        old_line = getattr(self, "line", None)
        old_boxes = [box for box, _ in getattr(self, "label_boxes", [])]
        start, end = self.a.pos(), self.b.pos()
        path = QPainterPath()
        if self.a is self.b:  # both ends on one node: a loop above it
            top = self.a.shape_rect().translated(start).top()
            path.moveTo(start.x() - 20, top)
            path.cubicTo(start.x() - 40, top - 60, start.x() + 40, top - 60, start.x() + 20, top)
        else:
            mid = (start + end) / 2
            normal = QPointF(-(end.y() - start.y()), end.x() - start.x())
            length = math.hypot(normal.x(), normal.y()) or 1.0
            control = mid + normal / length * 28.0 * self.lane
            p1, p2 = self.a.edge_point(control), self.b.edge_point(control)
            path.moveTo(p1)
            if self.lane == 0:
                path.lineTo(p2)
            else:
                path.quadTo(control, p2)
        self._path = path
        # Computed once per move, not per paint: the ends and the state dots' places.
        self._ends = (path.pointAtPercent(0), path.pointAtPercent(1))
        self.line = QLineF(*self._ends)
        self.line_rect = QRectF(*self._ends).normalized().adjusted(-2, -2, 2, 2)
        self._length = (self.line.length() if self._straight else path.length()) or 1.0
        inset = min(DOT_INSET / self._length, 0.5)
        self._dots = (self._point(inset), self._point(1 - inset))
        if self._state_dots is not None:
            for dot, point in zip(self._state_dots, self._dots, strict=True):
                dot.setPos(point)
        if self.drawn_by_layer != (self.plain and self.layer is not None):
            self.update_contents()  # its lane changed
        self._place_labels()
        if self.layer is not None:
            if self.plain and old_line is not None:  # erase and draw along the lines only
                boxes = old_boxes + [box for box, _ in self.label_boxes]
                self.layer.redraw_along([old_line, self.line], boxes)
            else:
                self.layer.changed(before.united(path.boundingRect()))

    @property
    def _straight(self) -> bool:
        return self.lane == 0 and self.a is not self.b

    def _point(self, fraction: float) -> QPointF:
        # A straight link's points are plain arithmetic; a curve asks its path.
        return (
            self.line.pointAt(fraction) if self._straight else self._path.pointAtPercent(fraction)
        )

    def _angle(self, fraction: float) -> float:
        return self.line.angle() if self._straight else self._path.angleAtPercent(fraction)

    def _place_labels(self) -> None:
        """Each end's label sits just outside its node, on opposite sides of the line,
        so two labels on a short link never cover each other (computed per change, not
        per paint)."""
        length = self._length
        self.label_boxes: list[tuple[QRectF, str]] = []
        for first, label, side in ((True, self.labels[0], 1), (False, self.labels[1], -1)):
            if not label:
                continue
            width = label_width(label)
            gap = (14 + width / 2) / length
            fraction = min(max(gap if first else 1 - gap, 0.0), 1.0)
            point = self._point(fraction)
            angle = self._angle(fraction)
            offset = QLineF.fromPolar(10, angle + 90 * side).p2()
            box = QRectF(
                point.x() + offset.x() - width / 2 - 2, point.y() + offset.y() - 7, width + 4, 14
            )
            self.label_boxes.append((box, label))
        # On a link too short for its labels they would hide under a node: those labels
        # are drawn above the nodes (on their edges, readable) by the layer's label layer.
        nodes = [end.shape_rect().translated(end.pos()) for end in (self.a, self.b)]
        crowded = any(box.intersects(rect) for box, _ in self.label_boxes for rect in nodes)
        if crowded != self.crowded:
            self.crowded = crowded
            if self.layer is not None:
                self.layer.above.track(self, crowded)
            self._restyled()

    def boundingRect(self) -> QRectF:
        rect = self._path.boundingRect().adjusted(-60, -20, 60, 20)
        if self.impairment:
            rect = rect.united(netemdraw.label_box(self.impairment, self._point(0.5)))
        return rect

    def shape(self) -> QPainterPath:
        from PySide6.QtGui import QPainterPathStroker

        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self._path)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        # Only links that are not plain get here (the layer draws the others).
        t = self.theme
        color = problem_color(t, self.problem) or (t.selection if self.isSelected() else t.link)
        if self.foreign:
            color = QColor(t.muted)
            color.setAlpha(150)
        pen = QPen(color, 2.4 if self.isSelected() else 1.8)
        if self.impairment and not self.problem and not self.foreign:
            pen = netemdraw.pen(self.isSelected())
        if self.down:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.pending:  # not applied yet: a wide translucent band under the line
            band = QColor(t.pending)
            band.setAlpha(90)
            painter.setPen(QPen(band, 7.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawPath(self._path)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.lane == 0 and self.a is not self.b:  # a straight line: far cheaper to draw
            painter.drawLine(*self._ends)
        else:
            painter.drawPath(self._path)
        if option.levelOfDetailFromTransform(painter.worldTransform()) < MIN_LABEL_SCALE:
            return  # too small to read: the labels would only cost time
        if self.impairment:
            box = netemdraw.label_box(self.impairment, self._point(0.5))
            netemdraw.paint(painter, t, self.impairment, box)
        if self.crowded:
            return  # its labels are drawn above the nodes
        shown = option.exposedRect
        draw_labels(painter, t, [box for box in self.label_boxes if shown.intersects(box[0])])


class MemberItem(LinkItem):
    """Dotted: a bridge, tap or tun and the namespace it lives in (not a veth)."""

    def __init__(self, device: NodeItem, home: NodeItem, theme: Theme) -> None:
        super().__init__("", device, home, theme)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
        self.setZValue(-1)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.theme.muted, 1.2, Qt.PenStyle.DotLine))
        painter.drawLine(self._path.pointAtPercent(0), self._path.pointAtPercent(1))
