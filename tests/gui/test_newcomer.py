"""What a newcomer meets before any lab runs (issue 12): the palette explains its
kinds and stays readable in dark mode."""

from __future__ import annotations

from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.gui.panels import KINDS
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


def new_window(qtbot) -> MainWindow:
    window = MainWindow(Document(), "/nonexistent/helper.sock")
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    return window


def test_every_palette_entry_says_what_it_is(qtbot) -> None:
    palette = new_window(qtbot).palette
    tips = {palette.item(r).text(): palette.item(r).toolTip() for r in range(palette.count())}
    assert set(tips) == {label for _, label in KINDS}
    assert "software switch" in tips["Bridge"] and "IP packets" in tips["Tun"]
    assert "VM" in tips["Tap"] and "namespace" in tips["Namespace"]
    assert all("Drag it onto the canvas" in tip for tip in tips.values())


def icon_contrast(palette_widget, label: str) -> float:
    """How far the icon's strongest stroke is from the list's background (lightness)."""
    item = palette_widget.findItems(label, Qt.MatchFlag.MatchExactly)[0]
    image = item.icon().pixmap(28, 28).toImage()
    background = palette_widget.palette().color(QPalette.ColorRole.Base).lightness()
    strokes = [
        image.pixelColor(x, y)
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() > 200
    ]
    assert strokes, f"the {label} icon draws nothing"
    return max(abs(c.lightness() - background) for c in strokes)


def test_the_host_icon_is_readable_in_dark_mode(qtbot) -> None:
    window = new_window(qtbot)
    app = QApplication.instance()
    light = app.palette()
    dark = QPalette(light)
    for role, color in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.Base, "#202124"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
    ):
        dark.setColor(role, QColor(color))
    assert icon_contrast(window.palette, "Host") > 100  # slate on white
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: icon_contrast(window.palette, "Host") > 100, timeout=3000)
    finally:
        app.setPalette(light)
    qtbot.waitUntil(lambda: icon_contrast(window.palette, "Host") > 100, timeout=3000)
