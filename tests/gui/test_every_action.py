"""Every action of every menu and context menu, triggered the way a user does (the real
QAction, in a state where it is enabled), against a real helper with a running lab:
none may raise or print a traceback (issue 12: "Capture on X" failed for every X while
the tests that called handlers directly passed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helper_process import RunningHelper
from menus import plain
from nstopo.gui.document import Document
from nstopo.gui.livemenu import live_menu
from nstopo.gui.mainwindow import MainWindow
from nstopo.resources import EXAMPLES
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QInputDialog, QMenu, QMessageBox
from sandbox import needs_root

pytestmark = needs_root
EXAMPLE = "bridge-pitfall"


def menu_actions(menu: QMenu, path: str) -> list[tuple[str, QAction]]:
    found = []
    for action in menu.actions():
        if action.isSeparator():
            continue
        if action.menu() is not None:
            found += menu_actions(action.menu(), f"{path} → {plain(action.text())}")
        else:
            found.append((f"{path} → {plain(action.text())}", action))
    return found


def every_menu_action(window: MainWindow) -> list[tuple[str, QAction]]:
    found = []
    for top in window.menuBar().actions():
        if top.menu() is not None:
            found += menu_actions(top.menu(), plain(top.text()))
    return found


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Modal dialogs answer at once: a file name in tmp_path, Cancel, no text."""
    target = tmp_path / "out"

    def save_name(*args, **kwargs):
        suffix = Path(str(args[2]) if len(args) > 2 else "x.yaml").suffix or ".yaml"
        return str(target.with_suffix(suffix)), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Ok)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))
    return tmp_path


def ready(qtbot, window: MainWindow) -> None:
    """The example open, deployed and running, nothing selected."""
    if window.doc.path != EXAMPLES / f"{EXAMPLE}.yaml" or window.doc.dirty:
        window.open_path(EXAMPLES / f"{EXAMPLE}.yaml")
    qtbot.waitUntil(lambda: not window.live.busy, timeout=30000)
    if not window.live.running:
        window.live.deploy()
        qtbot.waitUntil(lambda: window.live.running and not window.live.busy, timeout=30000)
    window.scene.select([])


def right_click(window: MainWindow, kind: str, key: str) -> QMenu:
    """The menu a right-click on the node (its middle) or the link (the middle of its
    line) pops up on the canvas."""
    view = window.view
    if kind == "node":
        spot = window.scene.nodes[key].sceneBoundingRect().center()
    elif kind == "canvas":  # beside the drawing: nothing there
        rect = window.scene.content_rect()
        spot = rect.bottomRight() + QPointF(60, 60)
        window.view.ensureVisible(QRectF(spot, spot), 10, 10)
    else:  # a point of the line between the two boxes, not inside either
        item = window.scene.links[key]
        a, b = (end.sceneBoundingRect() for end in (item.a, item.b))
        for t in (0.5, 0.4, 0.6, 0.3, 0.7):
            spot = a.center() + (b.center() - a.center()) * t
            if not (a.contains(spot) or b.contains(spot)):
                break
    at = view.mapFromScene(spot)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, view.viewport().mapToGlobal(at))
    QApplication.sendEvent(view.viewport(), event)
    menu = window.live_control.menu
    assert menu is not None and menu.isVisible(), f"no menu on {kind} {key}"
    menu.close()
    return menu


def close_dialogs(window: MainWindow) -> None:
    for dialog in window.findChildren(QDialog):
        if dialog.isVisible():
            dialog.close()


def test_every_action_of_every_menu_runs_without_an_error(
    qtbot, helper: RunningHelper, answered: Path, capfd
) -> None:
    window = MainWindow(Document.open(EXAMPLES / f"{EXAMPLE}.yaml"), str(helper.socket))
    window.ask_unsaved = lambda name: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    window.live_panel.ask_destroy = lambda lab: True  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    ready(qtbot, window)
    triggered: list[str] = []
    actions = every_menu_action(window)
    assert len(actions) > 30
    (quit_action,) = [action for name, action in actions if name == "File → Quit"]
    for name, _ in actions:
        if name == "File → Quit":
            continue  # last of all
        ready(qtbot, window)
        # Menus that list files (recent files, examples) are rebuilt when shown or
        # changed: find the action again by its name, as a person would in the menu.
        action = dict(every_menu_action(window)).get(name)
        if action is None:
            continue  # an entry of a rebuilt list that is gone now (a recent file)
        if not action.isEnabled() or (
            name.startswith("Edit → ")
            and name.split(" → ")[1] in ("Cut", "Copy", "Duplicate", "Delete", "Paste")
        ):
            window.scene.select(["a"])  # something to act on
            # Menus that follow the selection are rebuilt by it: find the action again.
            action = dict(every_menu_action(window)).get(name)
            if action is None:
                continue
        assert action.isEnabled(), f"{name} is disabled with the lab running"
        checkable = action.isCheckable()
        action.trigger()
        qtbot.wait(50)
        if checkable:  # back as it was: tools to selecting, a hidden dock shown
            # Found again: triggering may rebuild the menu it was in.
            again = dict(every_menu_action(window)).get(name)
            if again is not None:
                again.trigger()
        close_dialogs(window)
        for box in window.findChildren(QMessageBox):
            box.close()
        triggered.append(name)
    assert "Live → Destroy lab…" in triggered and "Help → About nstopo" in triggered
    # The context menus of every node and link.
    ready(qtbot, window)
    subjects = [("node", n) for n in window.doc.topology.node_names()]
    subjects += [("link", lid) for lid in window.doc.topology.link_ids()]
    subjects += [("canvas", "")]
    seen = 0
    for kind, key in subjects:
        menu = right_click(window, kind, key)
        texts = [a.text() for a in menu.actions() if a.text()]
        live_texts = [
            a.text()
            for a in live_menu(window.live_control, window, kind, key).actions()
            if a.text()
        ] if kind != "canvas" else []  # fmt: skip
        edit_texts = {
            "node": [f"Rename {key}…", f"Delete {key}", "Properties"],
            "link": ["Delete link", "Properties"],
            "canvas": ["Paste here", "Select all", "Auto layout", "Add here"],
        }[kind]
        assert texts == edit_texts + live_texts, f"the right-click on {kind} {key} was not its menu"
        for text in texts:
            ready(qtbot, window)
            menu = right_click(window, kind, key)
            (action,) = [a for a in menu.actions() if a.text() == text]
            if action.menu() is not None:  # Add here → a kind: the first one
                action = action.menu().actions()[0]
            if text == "Paste here" and not action.isEnabled():
                window.scene.select(["a"])
                window.editing.copy()
                menu = right_click(window, kind, key)
                (action,) = [a for a in menu.actions() if a.text() == text]
            assert action.isEnabled(), f"{kind} {key}: {text} is disabled with the lab running"
            action.trigger()
            qtbot.wait(50)
            if text.startswith("Capture on "):  # the helper's answer: capturing, or why not
                where = text.removeprefix("Capture on ")
                status = window.capture_panel.status
                if where != "both ends":
                    qtbot.waitUntil(
                        lambda s=status, w=where: w in s.text() or "Cannot" in s.text(),
                        timeout=5000,
                    )
                assert "Cannot" not in status.text(), f"{kind} {key}: {status.text()}"
                window.capture_panel.stop_all()
            if window.tools.ping.isChecked():
                window.scene.cancel_tool()
            close_dialogs(window)
            seen += 1
    assert seen >= 10
    window.capture_panel.stop_all()
    window.ping_panel.stop_all()
    QApplication.processEvents()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err, err
    window.live.destroy()
    qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
    quit_action.trigger()
    assert not window.isVisible()
