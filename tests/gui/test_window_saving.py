"""Saving from the real window never fails or loses an edit: the issue's sequence,
refusals of the system (a file size limit, as a full disk refuses), a clean quit and a
crash, the edits of a big lab reaching the canvas once per command, a file without
positions opening laid out, and the live overlay idle while no lab runs (issue 11)."""

from __future__ import annotations

import re
import resource
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nstopo.gui.autosave import autosave_dir, recoverable
from nstopo.gui.document import Document
from nstopo.gui.items import LinkItem, NodeItem
from nstopo.gui.mainwindow import MainWindow
from nstopo.model.yamlfile import load
from nstopo.resources import EXAMPLES
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox
from sandbox import needs_root


def menu_action(window: MainWindow, menu: str, text: str) -> QAction:
    """The action a user clicks: found in the window's menu bar by its words."""
    for top in window.menuBar().actions():
        if top.text().replace("&", "") == menu:
            for action in top.menu().actions():
                if action.text().replace("&", "").startswith(text):
                    return action
    raise AssertionError(f"no {menu} → {text} in the menus")


def open_copy(qtbot, tmp_path: Path, example: str, answer=QMessageBox.StandardButton.Discard):
    path = tmp_path / "labs" / f"{example}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text((EXAMPLES / f"{example}.yaml").read_text())
    window = MainWindow(Document.open(path))
    window.ask_unsaved = lambda name: answer  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window, path


def type_into(qtbot, field: QLineEdit, text: str) -> None:
    """Replace the field's text by typing, and confirm with Return."""
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def messages(window: MainWindow, title: str) -> list[str]:
    return [box.text() for box in window.findChildren(QMessageBox) if box.windowTitle() == title]


@contextmanager
def files_limited_to(size: int) -> Iterator[None]:
    """Writing past `size` bytes fails with EFBIG, as a full disk fails with ENOSPC
    (both outside nstopo; root ignores permissions, so a mode would not refuse)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the process is killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_saving_after_the_autosave_took_the_text_of_a_removed_link(qtbot, tmp_path) -> None:
    """The issue's sequence in the window: remove link 0, autosave, Ctrl+S."""
    window, path = open_copy(qtbot, tmp_path, "container-bridge")
    first = window.doc.topology.link_ids()[0]
    window.scene.select([], [first])
    menu_action(window, "Edit", "Delete").trigger()
    assert window.write_autosave() and window.autosave_path().exists()
    window.commands.catch_up()  # the commands panel read the document too
    menu_action(window, "File", "Save").trigger()
    assert not window.doc.dirty and messages(window, "Cannot save") == []
    assert len(load(path).topology.link_ids()) == 3
    assert "# the containers' gateway" in path.read_text()
    assert not window.autosave_path().exists()  # saved: nothing left to recover
    # Again: another edit, autosave, save.
    window.scene.select(["c2"])
    menu_action(window, "Edit", "Delete").trigger()
    window.write_autosave()
    menu_action(window, "File", "Save").trigger()
    assert load(path).topology.node_names() == ["router", "cbr0", "c1", "far", "internet"]


def test_a_save_the_system_refuses_is_told_and_keeps_the_work(qtbot, tmp_path) -> None:
    window, path = open_copy(qtbot, tmp_path, "container-bridge", QMessageBox.StandardButton.Save)
    original = path.read_text()
    window.scene.select(["c1"])
    menu_action(window, "Edit", "Delete").trigger()
    assert window.write_autosave()
    autosaved = window.autosave_path().read_text()
    with files_limited_to(200):  # smaller than the file
        menu_action(window, "File", "Save").trigger()
        [told] = messages(window, "Cannot save")
        assert re.fullmatch(
            rf"Cannot save {re.escape(str(path))}: file too large\. Nothing was written and "
            "your changes are still open; free some space, or save somewhere else\\.",
            told,
        )
        assert window.doc.dirty and window.windowTitle().startswith("container-bridge.yaml*")
        assert path.read_text() == original  # the file as it was, no half-written text
        window.scene.select(["c2"])
        menu_action(window, "Edit", "Delete").trigger()
        assert not window.write_autosave()  # fails, told once, and the old one is kept
        assert window.autosave_path().read_text() == autosaved
        assert len(messages(window, "Autosave failed")) == 1
        assert not window.write_autosave() and len(messages(window, "Autosave failed")) == 1
        assert window.close() is False  # Save was answered and failed: the window stays
        assert window.isVisible() and window.doc.dirty
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left
    menu_action(window, "File", "Save").trigger()  # room again
    assert not window.doc.dirty
    assert load(path).topology.node_names() == ["router", "cbr0", "far", "internet"]


def test_the_timers_autosave_is_written_off_the_ui_thread_and_told_when_refused(
    qtbot, tmp_path
) -> None:
    window, _ = open_copy(qtbot, tmp_path, "container-bridge")
    window.scene.select(["c1"])
    menu_action(window, "Edit", "Delete").trigger()
    assert window.autosave_in_background()
    qtbot.waitUntil(window.autosave_path().exists, timeout=5000)
    window._autosave_file().wait()
    written = window.autosave_path().read_text()
    assert "c1:" not in written and "# the containers' gateway" in written
    assert load(window.autosave_path()).topology.node_names() == [
        "router",
        "cbr0",
        "c2",
        "far",
        "internet",
    ]
    window.scene.select(["c2"])
    menu_action(window, "Edit", "Delete").trigger()
    with files_limited_to(200):
        assert window.autosave_in_background()
        window._autosave_file().wait()
        qtbot.waitUntil(lambda: bool(messages(window, "Autosave failed")), timeout=5000)
    [told] = messages(window, "Autosave failed")
    assert told.startswith("Cannot write the autosave") and "file too large" in told
    assert window.autosave_path().read_text() == written  # the last good one is kept
    assert window.doc.dirty
    menu_action(window, "File", "Save").trigger()
    assert not window.autosave_path().exists()


def test_a_clean_quit_leaves_no_autosave_and_a_crash_leaves_one(qtbot, tmp_path) -> None:
    window, _ = open_copy(qtbot, tmp_path, "veth-namespaces")
    window.scene.add_node_at("netns", QPointF(0, 300))
    window.write_autosave()
    # The lab renamed after the autosave was written (its file name holds the lab's).
    window.scene.clearSelection()
    type_into(qtbot, window.inspector.findChild(QLineEdit, "name"), "renamed-lab")
    assert window.doc.topology.name == "renamed-lab"
    window.write_autosave()
    assert len(list(autosave_dir().glob("*.yaml"))) == 1
    menu_action(window, "File", "Quit").trigger()  # Discard is answered
    assert not window.isVisible()
    assert list(autosave_dir().glob("*.yaml")) == [] and recoverable() == []

    crashed, _ = open_copy(qtbot, tmp_path, "bridge-fixed")
    crashed.scene.add_node_at("netns", QPointF(0, 300))
    crashed.write_autosave()
    saved = crashed.autosave_path()
    assert recoverable() == []  # its editor still runs
    dead = subprocess.Popen(["true"])  # a process that has ended: its pid is nobody's now
    dead.wait()
    text = saved.read_text()
    saved.write_text(re.sub(r"pid \d+", f"pid {dead.pid}", text, count=1))  # as after a crash
    assert recoverable() == [saved]
    edited = crashed.doc.topology.copy()
    crashed.recover(saved)
    assert crashed.doc.topology == edited and crashed.doc.path is None


def drag(window: MainWindow, name: str, by: QPointF) -> None:
    view = window.view
    at = QPointF(view.mapFromScene(window.scene.nodes[name].sceneBoundingRect().center()))

    def send(kind: QEvent.Type, where: QPointF) -> None:
        left = Qt.MouseButton.LeftButton
        button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else left
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else left
        event = QMouseEvent(kind, where, view.viewport().mapToGlobal(where), button, buttons,
                            Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(view.viewport(), event)

    send(QEvent.Type.MouseButtonPress, at)
    for step in range(1, 5):
        send(QEvent.Type.MouseMove, at + by * (step / 4))
    send(QEvent.Type.MouseButtonRelease, at + by)


def test_one_command_is_one_change_set_and_a_move_does_not_revalidate(qtbot, tmp_path) -> None:
    window, _ = open_copy(qtbot, tmp_path, "container-bridge")
    edited, validated = [], []
    window.doc.edited.connect(edited.append)
    window.doc.problemsChanged.connect(lambda: validated.append(1))
    window.scene.select(["c1", "c2", "far"])
    items = dict(window.scene.nodes)
    drag(window, "c1", QPointF(80, 40))
    qtbot.wait(20)
    assert window.doc.undo.count() == 1 and len(edited) == 1
    assert sorted(edited[0].keys("node-changed")) == ["c1", "c2", "far"]
    assert edited[0].positions_only
    assert validated == []  # moving changes nothing validation reads
    # A rename reaches the canvas as one change: the items stay, one is renamed.
    window.scene.select(["cbr0"])
    type_into(qtbot, window.inspector.findChild(QLineEdit, "name"), "docker0")
    qtbot.wait(20)
    assert len(edited) == 2 and len(validated) == 1
    assert window.scene.nodes["docker0"] is items["cbr0"] and items["cbr0"].name == "docker0"
    assert all(window.scene.nodes[n] is items[n] for n in ("router", "c1", "c2", "far"))
    # Deleting a node with its link: one change set, validated once.
    window.scene.select(["c2"])
    menu_action(window, "Edit", "Delete").trigger()
    qtbot.wait(20)
    assert len(edited) == 3 and [c.kind for c in edited[2]] == ["link-removed", "node-removed"]
    assert len(validated) == 2
    menu_action(window, "Edit", "Undo").trigger()
    qtbot.wait(20)
    assert len(edited) == 4 and window.doc.topology.node_names()[3] == "c2"
    assert window.scene.nodes["c2"].links  # its link came back onto the canvas too


def test_a_file_without_positions_opens_laid_out_as_it_was_saved(
    qtbot, tmp_path, monkeypatch
) -> None:
    """File → Open of a file without positions places its nodes before showing them
    (no grid of overlapping boxes), with no undo step and nothing unsaved."""
    window, _ = open_copy(qtbot, tmp_path, "veth-namespaces")
    bare = tmp_path / "bare.yaml"
    text = (EXAMPLES / "container-bridge.yaml").read_text()
    bare.write_text(re.sub(r"(?m)^\s*position: .*\n", "", text))
    assert "position" not in bare.read_text()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bare), ""))
    menu_action(window, "File", "Open…").trigger()
    assert window.doc.path == bare
    placed = {n: v.position for n, v in window.doc.topology.nodes()}
    assert None not in placed.values() and len(set(placed.values())) == len(placed)
    boxes = [item.sceneBoundingRect() for item in window.scene.nodes.values()]
    assert not any(a.intersects(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert window.doc.undo.count() == 0 and not window.doc.dirty


@needs_root
def test_the_live_overlay_stays_idle_while_no_lab_runs(qtbot, helper, monkeypatch) -> None:
    """Edits redraw no live state when the document's lab is not running; once it runs,
    the same kind of edit does (pending highlights), so the count can be seen."""
    touched: list[str] = []
    for cls in (NodeItem, LinkItem):
        real = cls.show_live

        def counted(self, *args, real=real, **kwargs):  # a spy: the real method still runs
            touched.append(type(self).__name__)
            return real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "show_live", counted)
    window = MainWindow(Document.open(EXAMPLES / "container-bridge.yaml"), str(helper.socket))
    window.ask_unsaved = lambda name: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    qtbot.waitUntil(lambda: not window.live.busy, timeout=10000)
    assert not window.live.running
    touched.clear()
    window.scene.select(["far"])
    menu_action(window, "Edit", "Delete").trigger()
    window.scene.select(["cbr0"])
    type_into(
        qtbot, window.inspector.findChild(QLineEdit, "addresses"), "10.80.1.1/24, fd00:80::1/64"
    )
    assert window.doc.topology.node("cbr0").addresses[1] == "fd00:80::1/64"  # edited
    qtbot.wait(100)
    assert touched == []
    window.live.deploy()
    qtbot.waitUntil(lambda: window.live.running and not window.live.busy, timeout=30000)
    touched.clear()
    window.scene.select(["c2"])
    menu_action(window, "Edit", "Delete").trigger()
    qtbot.waitUntil(lambda: bool(touched), timeout=5000)
    window.live.destroy()
    qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
