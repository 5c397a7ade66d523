"""An impaired link on the canvas: drawn dashed in its own color, with its impairment
in a few words at its middle (`20 ms ±2, 1% loss, 10 Mbit/s`)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from .drawing import LABEL_FONT, label_width
from .theme import Theme

IMPAIRED = QColor("#b8860b")  # dark goldenrod: apart from errors (red) and selection


def label_box(text: str, middle: QPointF) -> QRectF:
    """Where the label goes: centered just above the link's middle."""
    width = label_width(text) + 8
    return QRectF(middle.x() - width / 2, middle.y() - 20, width, 16)


def paint(painter: QPainter, theme: Theme, text: str, box: QRectF) -> None:
    """The label over the line (the line itself is dashed by the link's pen)."""
    background = QColor(theme.background)
    background.setAlpha(230)
    painter.fillRect(box, background)
    painter.setFont(LABEL_FONT)
    painter.setPen(IMPAIRED)
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def pen(selected: bool) -> QPen:
    return QPen(IMPAIRED, 2.6 if selected else 2.2, Qt.PenStyle.DashDotLine)
