"""The Help menu: the keyboard shortcuts (read from the window's own actions, so the
list cannot go stale), the topology file format (docs/format.md, shipped with the
package), the welcome page, and About."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nstopo
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

FORMAT_DOC = Path(nstopo.__file__).parent / "docs" / "format.md"
# Keys the canvas handles itself (no menu entry carries them).
CANVAS_KEYS = [
    ("Shift+drag from a node", "Draw a veth to another node"),
    ("Esc", "Drop a half-drawn link or half-chosen ping; back to selecting"),
    ("Mouse wheel", "Zoom"),
    ("Right-click", "The node's or link's menu (capture, rates, ping, forwarding database)"),
]


def plain(text: str) -> str:
    return text.replace("&", "")


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str]]:
    """(keys, what) for every menu action that has a shortcut, in menu order."""
    rows: list[tuple[str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{path} → {plain(action.text())}")  # type: ignore[arg-type]
            elif not action.shortcut().isEmpty():
                keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                rows.append((keys, f"{path} → {plain(action.text())}"))

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), plain(top.text()))  # type: ignore[arg-type]
    return rows + CANVAS_KEYS


class ShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 480)
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(("Keys", "Does"))
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (keys, what) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(what))
        self.table.resizeColumnToContents(0)
        _column(self, self.table)


class FormatDialog(QDialog):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("The topology file format")
        self.resize(720, 640)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        if FORMAT_DOC.is_file():
            self.text.setMarkdown(FORMAT_DOC.read_text())
        else:
            self.text.setPlainText(f"{FORMAT_DOC} is missing from this installation.")
        _column(self, self.text)


def _column(dialog: QDialog, body: QWidget) -> None:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(body, 1)
    layout.addWidget(buttons)


def about_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("nstopo")
    except PackageNotFoundError:
        number = "(not installed)"
    return (
        f"<h3>nstopo {number}</h3>"
        "<p>A desktop editor for Linux network namespaces, veth pairs, bridges and "
        "tun/tap devices, and a privileged helper that makes the drawing real.</p>"
        "<p>Topologies are YAML files: <code>nstopo validate</code>, <code>plan</code>, "
        "<code>apply</code> and <code>destroy</code> work on them from the command line "
        "too.</p><p>License: GPL-3.0-or-later.</p>"
    )


def build_help_menu(
    window: QMainWindow,
    show_welcome: object,
    lessons: list[tuple[str, Callable[[], object]]] | None = None,
) -> QMenu:
    """Add Help to the window's menu bar; `show_welcome` shows the welcome page;
    `lessons`: (title, start it) for Help → Lessons."""
    menu = window.menuBar().addMenu("&Help")

    def add(text: str, slot: object, shortcut: QKeySequence | None = None) -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(lambda _checked=False: slot())  # type: ignore[operator]
        if shortcut is not None:
            action.setShortcut(shortcut)
        return action

    add("&Welcome and examples", show_welcome)
    if lessons:
        guided = menu.addMenu("&Lessons")
        for title, start in lessons:
            action = guided.addAction(title)
            action.triggered.connect(lambda _checked=False, s=start: s())
    add("&Keyboard shortcuts", lambda: ShortcutsDialog(window).open(), QKeySequence("F1"))
    add("The topology &file format", lambda: FormatDialog(window).open())
    menu.addSeparator()
    add("&About nstopo", lambda: show_about(window))
    return menu


def show_about(window: QWidget) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.Information,
        "About nstopo",
        about_text(),
        QMessageBox.StandardButton.Close,
        window,
    )
    box.setTextFormat(Qt.TextFormat.RichText)
    box.open()  # not exec(): the editor keeps running behind it
    return box
