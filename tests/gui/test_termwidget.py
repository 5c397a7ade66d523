"""The terminal widget's emulation (issue 15: colours, cursor addressing, wide CJK
cells, scrollback, copy and paste, resize), driven with real key and wheel events on a
real pty whose other side is a real shell (a local one: the helper only hands the pty
over, tests/gui/test_terminals.py covers that part)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from nstopo.backend.ptyclient import set_size
from nstopo.gui.termwidget import TerminalView
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

PROMPT = "ready$ "


@pytest.fixture
def term(qtbot) -> Iterator[TerminalView]:
    """A TerminalView on a pty with `sh` on the other side (its controlling terminal)."""
    master, slave = os.openpty()
    set_size(master, 24, 80)  # as the helper opens it (exec.pty's rows and cols)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color",
           "LANG": "C.UTF-8", "PS1": PROMPT, "HOME": "/"}  # fmt: skip
    shell = subprocess.Popen(["setsid", "--ctty", "sh"], stdin=slave, stdout=slave,
                             stderr=slave, env=env, close_fds=True)  # fmt: skip
    os.close(slave)
    view = TerminalView(master)
    qtbot.addWidget(view)
    view.resize(80 * view.cell_w, 24 * view.cell_h)
    view.show()
    qtbot.waitExposed(view)
    view.setFocus()
    qtbot.waitUntil(lambda: PROMPT.strip() in view.text(), timeout=10000)
    try:
        yield view
    finally:
        view.close_pty()
        shell.kill()
        shell.wait(10)


def type_line(qtbot, view: TerminalView, line: str) -> None:
    qtbot.keyClicks(view, line)
    qtbot.keyClick(view, Qt.Key.Key_Return)


def pixel_at(view: TerminalView, row: int, col: int) -> set[str]:
    """The colours painted in one cell (the glyph's and the background's)."""
    image = view.grab().toImage()
    colours = set()
    for dy in range(view.cell_h):
        for dx in range(view.cell_w):
            colours.add(image.pixelColor(col * view.cell_w + dx, row * view.cell_h + dy).name())
    return colours


def test_colours_and_cursor_addressing_are_painted_where_the_program_put_them(
    qtbot, term: TerminalView
) -> None:
    # tput reads TERM's terminfo, as top, less and vi do
    type_line(qtbot, term, r"clear; tput cup 5 10; printf '\033[31mR\033[42mG\033[0m'; sleep 5")
    qtbot.waitUntil(lambda: term.screen.buffer[5][10].data == "R", timeout=10000)
    red, green = term.screen.buffer[5][10], term.screen.buffer[5][11]
    assert (red.fg, green.data, green.bg) == ("red", "G", "green")
    assert QColor("#cd3131").name() in pixel_at(term, 5, 10)  # the red glyph, painted
    assert QColor("#0dbc79").name() in pixel_at(term, 5, 11)  # the green background
    assert term.text().splitlines()[5] == " " * 10 + "RG"


def test_wide_cjk_text_takes_two_cells_and_comes_back_whole(qtbot, term: TerminalView) -> None:
    type_line(qtbot, term, "clear; printf '\\344\\270\\255\\346\\226\\207|\\n'")  # 中文|
    qtbot.waitUntil(lambda: "中文|" in term.text(), timeout=10000)
    row = next(y for y in range(term.screen.lines) if "中文|" in term.text().splitlines()[y])
    cells = [term.screen.buffer[row][x].data for x in range(5)]
    assert cells == ["中", "", "文", "", "|"]  # each wide character fills two cells
    # Typed CJK (an input method's key events: no key code, the text) goes out as UTF-8.
    # QTest's keyClicks takes Latin-1 only, so these are sent as the window system would.
    qtbot.keyClicks(term, "echo ")
    for char in "漢字":
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(term, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))
    type_line(qtbot, term, "-$((1+1))")
    qtbot.waitUntil(lambda: "漢字-2" in term.text().splitlines(), timeout=10000)


def test_scrollback_shows_what_scrolled_off_and_returns(qtbot, term: TerminalView) -> None:
    type_line(qtbot, term, "seq 1 200")
    qtbot.waitUntil(lambda: "200" in term.text().splitlines(), timeout=10000)
    assert "100" not in term.text().splitlines()

    def wheel(delta: int) -> None:
        at = QPointF(term.width() / 2, term.height() / 2)
        event = QWheelEvent(at, term.mapToGlobal(at), QPoint(), QPoint(0, delta),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                            Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip
        QApplication.sendEvent(term, event)

    def shown() -> list[int]:
        return [int(line) for line in term.text().splitlines() if line.isdigit()]

    bottom = shown()
    wheel(120)
    wheel(120)
    assert min(shown()) < min(bottom) and max(shown()) < 200  # history, up to 2,000 lines
    wheel(-120)
    wheel(-120)
    assert shown() == bottom


def test_copy_and_paste_with_ctrl_shift(qtbot, term: TerminalView) -> None:
    type_line(qtbot, term, "echo copied-$((20+22))")
    qtbot.waitUntil(lambda: "copied-42" in term.text(), timeout=10000)
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(term, Qt.Key.Key_C, ctrl_shift)
    assert "copied-42" in QGuiApplication.clipboard().text()
    QGuiApplication.clipboard().setText("echo pasted-$((2+3))\n")
    qtbot.keyClick(term, Qt.Key.Key_V, ctrl_shift)
    qtbot.waitUntil(lambda: "pasted-5" in term.text(), timeout=10000)


def test_a_resized_widget_resizes_the_pty_and_the_program_sees_it(
    qtbot, term: TerminalView
) -> None:
    size = f"{term.screen.lines} {term.screen.columns}"  # as the widget's first size gave
    type_line(qtbot, term, "stty size")
    qtbot.waitUntil(lambda: size in term.text().splitlines(), timeout=10000)
    term.resize(100 * term.cell_w, 30 * term.cell_h)
    qtbot.waitUntil(lambda: (term.screen.lines, term.screen.columns) == (30, 100), timeout=5000)
    # a program running during the resize gets SIGWINCH (its foreground job)
    type_line(qtbot, term, "clear; trap 'echo winch-$(stty size)' WINCH; sleep 5 & wait")
    qtbot.wait(300)
    term.resize(90 * term.cell_w, 20 * term.cell_h)
    qtbot.waitUntil(lambda: "winch-20 90" in term.text(), timeout=10000)
