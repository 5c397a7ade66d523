"""A terminal widget: a pty master (handed over by the helper, exec.pty) read by a
QSocketNotifier, emulated by pyte (VT100/xterm escapes: cursor addressing, colours,
wide CJK cells, scrollback), painted cell by cell.

Why pyte and a widget of ours: pyte is pure Python (LGPL-3.0, works with any PySide6
we allow), keeps the screen as data a test can read, and handles what `top`, `less`
and `vi` send; pyside6-qtermwidget pins one exact PySide6 version and brings its own
C++ build; termqt (MIT) is younger, smaller in fidelity, and wants to own the pty.
"""

from __future__ import annotations

import contextlib
import os

import pyte
from nstopo.backend.ptyclient import set_size
from PySide6.QtCore import QEvent, QSocketNotifier, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QKeyEvent, QPainter
from PySide6.QtWidgets import QWidget

_KEYS = {
    Qt.Key.Key_Return: b"\r", Qt.Key.Key_Enter: b"\r", Qt.Key.Key_Backspace: b"\x7f",
    Qt.Key.Key_Tab: b"\t", Qt.Key.Key_Escape: b"\x1b", Qt.Key.Key_Up: b"\x1b[A",
    Qt.Key.Key_Down: b"\x1b[B", Qt.Key.Key_Right: b"\x1b[C", Qt.Key.Key_Left: b"\x1b[D",
    Qt.Key.Key_Home: b"\x1b[H", Qt.Key.Key_End: b"\x1b[F", Qt.Key.Key_Delete: b"\x1b[3~",
    Qt.Key.Key_PageUp: b"\x1b[5~", Qt.Key.Key_PageDown: b"\x1b[6~",
}  # fmt: skip
_NAMED = {
    "black": "#000000", "red": "#cd3131", "green": "#0dbc79", "brown": "#e5e510",
    "blue": "#2472c8", "magenta": "#bc3fbc", "cyan": "#11a8cd", "white": "#e5e5e5",
    "brightblack": "#666666", "brightred": "#f14c4c", "brightgreen": "#23d18b",
    "brightbrown": "#f5f543", "brightblue": "#3b8eea", "brightmagenta": "#d670d6",
    "brightcyan": "#29b8db", "brightwhite": "#ffffff",
}  # fmt: skip
FOREGROUND, BACKGROUND = QColor("#d4d4d4"), QColor("#1e1e1e")


def _color(name: str, default: QColor) -> QColor:
    if name == "default":
        return default
    if name in _NAMED:
        return QColor(_NAMED[name])
    if len(name) == 6:
        return QColor(f"#{name}")
    return default


class TerminalView(QWidget):
    """One terminal on the pty master `fd` (the view owns and closes it)."""

    ended = Signal()  # the other side of the pty closed (the command exited)

    def __init__(self, fd: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fd: int | None = fd
        os.set_blocking(fd, False)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.setFont(font)
        metrics = self.fontMetrics()
        self.cell_w = max(1, metrics.horizontalAdvance("M"))
        self.cell_h = max(1, metrics.height())
        self.screen = pyte.HistoryScreen(80, 24, history=2000, ratio=0.5)
        self.stream = pyte.ByteStream(self.screen)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(self.cell_w * 20, self.cell_h * 5)
        self._notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._readable)

    # -- pty -> screen ---------------------------------------------------------------------
    def _readable(self) -> None:
        if self.fd is None:
            return
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the command and everything holding its pty are gone
            data = b""
        if not data:
            self.close_pty()
            self.ended.emit()
            return
        self.stream.feed(data)
        self.update()

    def close_pty(self) -> None:
        if self.fd is not None:
            self._notifier.setEnabled(False)
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None

    def text(self) -> str:
        """What the screen shows, one line per row (tests, copy)."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    # -- keys -> pty -----------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        if self.fd is not None:
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(self.fd, data)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        key = event.key()
        if ctrl and shift and key == Qt.Key.Key_V:
            self.send(QGuiApplication.clipboard().text().encode())
            return
        if ctrl and shift and key == Qt.Key.Key_C:
            QGuiApplication.clipboard().setText(self.text())
            return
        if key in _KEYS:
            self.send(_KEYS[key])
        elif ctrl and Qt.Key.Key_A <= key <= Qt.Key.Key_Z:
            self.send(bytes([key - Qt.Key.Key_A + 1]))  # Ctrl-C is 0x03: SIGINT there
        elif event.text():
            self.send(event.text().encode())
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def event(self, event: QEvent) -> bool:
        """Every key is the shell's: a key accepted as a shortcut override is delivered
        here instead of triggering the window's shortcut (F, L, P, Delete on the canvas;
        Ctrl+C, Ctrl+D, Ctrl+A, Ctrl+Z in the Edit menu)."""
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        return super().event(event)

    def focusNextPrevChild(self, next: bool) -> bool:  # Tab is a key here
        return False

    def wheelEvent(self, event) -> None:
        if event.angleDelta().y() > 0:
            self.screen.prev_page()
        else:
            self.screen.next_page()
        self.update()

    # -- size and paint --------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        cols = max(2, self.width() // self.cell_w)
        rows = max(2, self.height() // self.cell_h)
        if (rows, cols) != (self.screen.lines, self.screen.columns):
            self.screen.resize(rows, cols)
            if self.fd is not None:
                with contextlib.suppress(OSError):
                    set_size(self.fd, rows, cols)  # the node's job gets SIGWINCH
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setFont(self.font())
        ascent = self.fontMetrics().ascent()
        cursor = self.screen.cursor
        for y in range(self.screen.lines):
            row = self.screen.buffer[y]
            for x in range(self.screen.columns):
                char = row[x]
                fg = _color(char.fg, FOREGROUND)
                bg = _color(char.bg, BACKGROUND)
                if char.reverse:
                    fg, bg = bg, fg
                if y == cursor.y and x == cursor.x and not cursor.hidden:
                    fg, bg = BACKGROUND, FOREGROUND
                if bg != BACKGROUND:
                    painter.fillRect(x * self.cell_w, y * self.cell_h, self.cell_w,
                                     self.cell_h, bg)  # fmt: skip
                if char.data.strip():
                    painter.setPen(fg)
                    painter.drawText(x * self.cell_w, y * self.cell_h + ascent, char.data)
        painter.end()
