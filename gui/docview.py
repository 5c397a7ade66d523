"""Everything that shows one document on the canvas, made and ended as one: the scene,
the view, the live session under the document's lab name, the overlay drawing that
session on the scene, and the packet animator. Opening another document swaps the
whole object, so nothing of the previous document lingers half-connected."""

from __future__ import annotations

from PySide6.QtCore import QObject

from .animation import PacketAnimator
from .connection import HelperConnection
from .document import Document
from .live import LiveSession
from .liveoverlay import LiveOverlay
from .scene import EditorScene
from .view import CanvasView


class DocumentView(QObject):
    def __init__(self, doc: Document, connection: HelperConnection, parent: QObject) -> None:
        super().__init__(parent)
        self.doc = doc
        self.scene = EditorScene(doc)
        self.scene.setParent(self)
        self.live = LiveSession(doc, connection)
        self.live.setParent(self)
        self.overlay = LiveOverlay(self.scene, self.live)
        self.view = CanvasView(self.scene)
        self.animator = PacketAnimator(self.scene, self.live)

    def close(self) -> None:
        """Stop following the helper and the document; the widgets go with the next
        event-loop turn (signals queued for them are dropped)."""
        self.live.detach()
        self.view.deleteLater()
        self.deleteLater()  # the scene and the session are its children
