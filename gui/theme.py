"""Colors and sizes of the canvas, light or dark after the desktop's palette."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from nstopo.resources import ICONS
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
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
    if desktop_is_dark():
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


# The host icon is drawn in slate grey, which vanishes on a dark background: in dark
# mode its strokes take this lighter grey (the other kinds' colors read on both).
DARK_STROKES = {"#4a5563": "#c3cad5"}


def desktop_is_dark() -> bool:
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def icon_svg(kind: str, dark: bool) -> bytes:
    svg = (ICONS / f"{kind}.svg").read_text()
    if dark:
        for light, lighter in DARK_STROKES.items():
            svg = svg.replace(light, lighter)
    return svg.encode()


def icon_renderer(kind: str, dark: bool | None = None) -> QSvgRenderer:
    """The kind's icon in colors that read on the desktop's background (dark or not)."""
    return _renderer(kind, desktop_is_dark() if dark is None else dark)


@cache
def _renderer(kind: str, dark: bool) -> QSvgRenderer:
    return QSvgRenderer(QByteArray(icon_svg(kind, dark)))


def kind_icon(kind: str, dark: bool | None = None) -> QIcon:
    """A QIcon of the kind (palette, menus) for the desktop's background."""
    renderer = icon_renderer(kind, dark)
    icon = QIcon()
    for size in (16, 24, 28, 32, 48):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


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
