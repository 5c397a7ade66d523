"""pyqtgraph plots in the desktop's colors (light or dark), kept in step when the
desktop switches."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QPalette


def themed_plot() -> pg.PlotWidget:
    plot = pg.PlotWidget()
    _apply_palette(plot)
    plot.installEventFilter(_follower)
    return plot


def _apply_palette(plot: pg.PlotWidget) -> None:
    palette = plot.palette()
    plot.setBackground(palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.Text)
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))


class _PaletteFollower(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.PaletteChange and isinstance(watched, pg.PlotWidget):
            _apply_palette(watched)
        return False


_follower = _PaletteFollower()
