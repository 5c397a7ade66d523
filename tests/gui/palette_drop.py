"""A palette entry dropped on the canvas, as Qt delivers the drop to the view."""

from __future__ import annotations

from nstopo.gui.mainwindow import MainWindow
from nstopo.gui.view import KIND_MIME
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent


def drop_kind(window: MainWindow, kind: str, at: QPoint) -> None:
    mime = QMimeData()
    mime.setData(KIND_MIME, kind.encode())
    event = QDropEvent(
        QPointF(at), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    window.view.dropEvent(event)
