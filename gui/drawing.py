"""What the canvas items share: fonts sized in scene units, link labels, the live
state dot, and the colors of problem marks."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from .theme import Theme

MIN_LABEL_SCALE = 0.45  # below this zoom, link end labels are unreadable specks


def font(family: str, pixels: int, bold: bool = False) -> QFont:
    """Sized in pixels, i.e. in scene units: pictures at any scale or DPI look the same."""
    made = QFont(family)
    made.setPixelSize(pixels)
    made.setBold(bold)
    return made


NAME_FONT = font("DejaVu Sans", 13, bold=True)
TEXT_FONT = font("DejaVu Sans Mono", 11)
LABEL_FONT = font("DejaVu Sans", 10)


@cache
def label_width(text: str) -> float:
    return QFontMetricsF(LABEL_FONT).horizontalAdvance(text)


def elide(text: str, used: QFont, width: float) -> str:
    return QFontMetricsF(used).elidedText(text, Qt.TextElideMode.ElideMiddle, width)


def draw_labels(painter: QPainter, theme: Theme, boxes: list[tuple[QRectF, str]]) -> None:
    if not boxes:
        return
    painter.setFont(LABEL_FONT)
    painter.setPen(theme.muted)
    background = QColor(theme.background)
    background.setAlpha(225)
    for box, label in boxes:
        painter.fillRect(box, background)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)


@dataclass(frozen=True)
class EndMark:
    """A link end's live state: its color, and whether it drifted from the document."""

    color: QColor
    drift: bool = False


class StateDot(QGraphicsItem):
    """A live interface's state: a colored dot, ringed when it drifted from the
    document. Hidden while nothing is known (design mode)."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.color: QColor | None = None
        self.ring: QColor | None = None
        self.setZValue(2)
        self.setVisible(False)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks go to the link/node

    def show_state(self, color: QColor | None, ring: QColor | None = None) -> None:
        if (color, ring) == (self.color, self.ring):
            return
        self.color, self.ring = color, ring
        self.setVisible(color is not None)
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(-9, -9, 18, 18)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self.color is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(0, 0, 0, 90), 1.0))
        painter.setBrush(self.color)
        painter.drawEllipse(QPointF(0, 0), 4.5, 4.5)
        if self.ring is not None:
            painter.setPen(QPen(self.ring, 2.2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QPointF(0, 0), 7.5, 7.5)


def problem_color(theme: Theme, problem: tuple[str, bool] | None) -> QColor | None:
    if problem is None:
        return None
    return theme.error if problem[1] else theme.warning
