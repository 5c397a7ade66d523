"""Pictures of a topology: PNG (any scale, transparent or not) and SVG that is
self-contained (vector drawing only, no external files or URLs). Works headless."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsScene

MARGIN = 30.0


def ensure_app() -> QApplication:
    """A QApplication, offscreen when there is no display (headless export)."""
    app = QApplication.instance()
    if app is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication([])
    assert isinstance(app, QApplication)
    return app


@contextmanager
def _vector(scene: QGraphicsScene) -> Iterator[None]:
    """Draw items afresh, not from their pixmap caches: an SVG gets vectors, not PNGs."""
    cached = [(item, item.cacheMode()) for item in scene.items()]
    for item, _ in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)


def _area(scene: QGraphicsScene) -> QRectF:
    scene.clearSelection()
    rect = scene.content_rect() if hasattr(scene, "content_rect") else scene.itemsBoundingRect()
    return rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def render_png(
    scene: QGraphicsScene, path: Path, scale: float = 2.0, transparent: bool = False
) -> QImage:
    area = _area(scene)
    size = QSize(max(1, int(area.width() * scale)), max(1, int(area.height() * scale)))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent if transparent else scene.backgroundBrush().color())
    image.setDotsPerMeterX(int(96 * scale / 0.0254))
    image.setDotsPerMeterY(int(96 * scale / 0.0254))
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    brush = scene.backgroundBrush()
    if transparent:
        scene.setBackgroundBrush(Qt.BrushStyle.NoBrush)
    with _vector(scene):  # crisp at any scale
        scene.render(painter, QRectF(0, 0, size.width(), size.height()), area)
    scene.setBackgroundBrush(brush)
    painter.end()
    if not image.save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")
    return image


def svg_bytes(scene: QGraphicsScene, title: str = "nstopo") -> bytes:
    area = _area(scene)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(int(area.width()), int(area.height())))
    generator.setViewBox(QRectF(0, 0, area.width(), area.height()))
    generator.setTitle(title)
    generator.setDescription("Drawn by nstopo")
    painter = QPainter(generator)
    with _vector(scene):
        scene.render(painter, QRectF(0, 0, area.width(), area.height()), area)
    painter.end()
    data = QByteArray(buffer.data())
    return bytes(data.data())


def render_svg(scene: QGraphicsScene, path: Path, title: str = "nstopo") -> None:
    Path(path).write_bytes(svg_bytes(scene, title))


def export_picture(source: Path, target: Path, kind: str) -> None:
    """`nstopo export FILE --png/--svg OUT`, without a display."""
    ensure_app()
    from .document import Document
    from .scene import EditorScene

    doc = Document.open(source)
    scene = EditorScene(doc)
    if kind == "png":
        render_png(scene, target)
    else:
        render_svg(scene, target, doc.topology.name)
