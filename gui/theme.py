"""Colors and sizes of the canvas, light or dark after the desktop's palette."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from nstopo.resources import ICONS
from PySide6.QtCore import QByteArray
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtSvg import QSvgRenderer

GRID = 20.0
KIND_COLORS = {
    "netns": "#2f6fb0",
    "bridge": "#e49b20",
    "tap": "#7a4fb3",
    "tun": "#2d8a5f",
    "host": "#4a5563",
}


@dataclass(frozen=True)
class Theme:
    dark: bool
    background: QColor
    grid: QColor
    box: QColor
    text: QColor
    muted: QColor
    link: QColor
    selection: QColor
    error: QColor
    warning: QColor
    pending: QColor  # edits not yet applied to the running lab
    drift: QColor  # the kernel differs from the document


def current_theme() -> Theme:
    """Dark when the desktop's window color is dark."""
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    if window.lightness() < 128:
        return Theme(
            True,
            QColor("#1e2228"),
            QColor("#2a2f37"),
            QColor("#2b313a"),
            QColor("#e6e9ee"),
            QColor("#9aa4b2"),
            QColor("#8fa3bf"),
            QColor("#4fa3ff"),
            QColor("#ff6b6b"),
            QColor("#f0b429"),
            QColor("#b388ff"),
            QColor("#ff4fd8"),
        )
    return Theme(
        False,
        QColor("#f7f8fa"),
        QColor("#e8ebf0"),
        QColor("#ffffff"),
        QColor("#1d2330"),
        QColor("#5d6777"),
        QColor("#6b7d96"),
        QColor("#1a73e8"),
        QColor("#d93025"),
        QColor("#d98a00"),
        QColor("#7c4dff"),
        QColor("#c2185b"),
    )


@cache
def icon_renderer(kind: str) -> QSvgRenderer:
    return QSvgRenderer(QByteArray((ICONS / f"{kind}.svg").read_bytes()))


# Interface states (IFLA_OPERSTATE words) as dot colors.
OPER_COLORS = {
    "UP": "#1e8e3e",
    "DOWN": "#d93025",
    "LOWERLAYERDOWN": "#e37400",
    "NO-CARRIER": "#e37400",  # admin up, oper DOWN: the other end is down
    "NOTPRESENT": "#d93025",
    "DORMANT": "#e37400",
    "TESTING": "#e37400",
    "UNKNOWN": "#5f8dd3",  # tun/tap and lo report UNKNOWN while up
}
MISSING_COLOR = "#9aa0a6"
