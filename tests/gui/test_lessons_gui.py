"""Lessons in the editor (issue 18, item 5): started from Help → Lessons or the welcome
page, walked from the first stage to the last with real input (a palette drop, the
Inspector's keys, Deploy/Apply through the Live menu) against a real sandboxed helper;
"Show me" is one undoable edit; progress is kept between runs."""

from __future__ import annotations

from helper_process import RunningHelper
from menus import trigger
from nstopo.gui.lessons import LessonPanel, stages_done
from nstopo.gui.mainwindow import MainWindow
from nstopo.model.lessons import bundled_lessons, drawing_unmet
from palette_drop import drop_kind
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QComboBox, QMessageBox, QPushButton
from sandbox import needs_root

LOOPBACK = "1. The loopback interface"


def new_window(qtbot, socket: str) -> MainWindow:
    window = MainWindow(None, socket)
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    window.live_panel.ask_destroy = lambda lab: True  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.resize(1360, 860)
    window.show()
    qtbot.waitExposed(window)
    return window


def lesson_panel(window: MainWindow) -> LessonPanel:
    panel = window.newcomer.lessons.panel
    assert panel is not None and window._docks["Lesson"].isVisible()
    return panel


def click_node(qtbot, window: MainWindow, name: str) -> None:
    view = window.view
    point = view.mapFromScene(window.scene.nodes[name].sceneBoundingRect().center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def set_loopback(qtbot, window: MainWindow, node: str, key: Qt.Key, value: str) -> None:
    """Select the node on the canvas, then the Inspector's loopback box, by keys."""
    click_node(qtbot, window, node)
    box = window.inspector.findChild(QComboBox, "loopback")
    assert box is not None
    box.setFocus()
    qtbot.keyClick(box, key)
    assert window.doc.topology.node(node).loopback == value


def click(qtbot, button: QPushButton) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@needs_root
def test_the_loopback_lesson_walked_to_its_end(qtbot, helper: RunningHelper) -> None:
    window = new_window(qtbot, str(helper.socket))
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    trigger(window, "Help", LOOPBACK)
    panel = lesson_panel(window)
    assert window.doc.topology.name == "lesson-loopback" and len(window.doc.topology) == 0
    assert panel.index == 0 and "Stage 1 of 2" in panel.stage_title.text()
    assert "Draw a network namespace named ns1" in panel.task.text()
    assert "ip netns add ns1" in panel.explain.toPlainText()
    assert not panel.next_button.isEnabled()
    settings = QSettings("nstopo", "nstopo")
    try:
        # Stage 1: a namespace from the palette, its loopback down, deployed.
        port = window.view.viewport()
        drop_kind(window, "netns", QPoint(port.width() // 2, port.height() // 2))
        assert window.doc.topology.node_names() == ["ns1"]
        qtbot.waitUntil(lambda: "loopback is up, not down" in panel.todo.text(), timeout=3000)
        set_loopback(qtbot, window, "ns1", Qt.Key.Key_Down, "down")
        qtbot.waitUntil(lambda: "the drawing is right" in panel.todo.text(), timeout=3000)
        assert "Deploy the lab" in panel.todo.text()
        trigger(window, "Live", "Deploy / Apply changes")
        qtbot.waitUntil(lambda: panel.stage_done(0), timeout=40000)
        assert "lo is down in ns1 <i>(passed)" in panel.todo.text()
        assert "127.0.0.1 is unreachable <i>(passed)" in panel.todo.text()
        assert stages_done(settings, "01-loopback") == 1
        click(qtbot, panel.next_button)
        assert panel.index == 1 and "Stage 2 of 2" in panel.stage_title.text()
        # The canvas has the keys next, not whatever field follows the disabled button.
        assert window.focusWidget() is window.view
        # Stage 2: lo up in the Inspector, applied to the running lab.
        qtbot.waitUntil(lambda: "loopback is down, not up" in panel.todo.text(), timeout=3000)
        set_loopback(qtbot, window, "ns1", Qt.Key.Key_Up, "up")
        qtbot.waitUntil(lambda: "Apply your changes" in panel.todo.text(), timeout=5000)
        trigger(window, "Live", "Deploy / Apply changes")
        qtbot.waitUntil(lambda: panel.stage_done(1), timeout=40000)
        assert "Lesson complete" in panel.todo.text()
        assert "127.0.0.1 answers <i>(passed)" in panel.todo.text()
        assert stages_done(settings, "01-loopback") == 2
        assert not panel.next_button.isEnabled()  # the last stage
    finally:
        panel.close_run()
        panel.runner.wait()
        window.live.destroy()
        qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
    # The welcome page says it is done.
    welcome = window.newcomer.show_welcome()
    assert "The loopback interface  (done)" in welcome.lesson_list.item(0).text()


def test_show_me_is_one_undoable_edit_and_progress_is_kept(qtbot, tmp_path) -> None:
    window = new_window(qtbot, str(tmp_path / "none.sock"))
    welcome = window.newcomer.show_welcome()
    assert welcome.tabs.tabText(welcome.tabs.currentIndex()) == "Lessons"
    assert "(not started)" in welcome.lesson_list.item(0).text()
    click(qtbot, welcome.start_lesson_button)
    panel = lesson_panel(window)
    assert not welcome.isVisible()
    stage = panel.stage
    assert drawing_unmet(stage, window.doc.topology)
    click(qtbot, panel.show_button)
    assert drawing_unmet(stage, window.doc.topology) == []
    assert window.doc.topology.name == "lesson-loopback"
    # With no helper, a stage with kernel checks says what is needed and stays open.
    qtbot.waitUntil(lambda: "the drawing is right" in panel.todo.text(), timeout=3000)
    assert "Start the helper" in panel.todo.text() and not panel.stage_done(0)
    trigger(window, "Edit", "Undo")
    assert len(window.doc.topology) == 0
    # Progress: a stage done earlier (kept in the settings) is where the lesson resumes,
    # on the drawing the finished stage ended with.
    settings = QSettings("nstopo", "nstopo")
    settings.setValue("lessons/01-loopback/done", 1)
    again = new_window(qtbot, str(tmp_path / "none.sock"))
    trigger(again, "Help", LOOPBACK)
    resumed = lesson_panel(again)
    lesson = bundled_lessons()[0]
    assert resumed.index == 1 and again.doc.topology == lesson.stages[0].solution
    assert "(locked)" not in resumed.stage_list.item(1).text()
    # A finished stage can be read again from the list.
    first = resumed.stage_list.item(0)
    rect = resumed.stage_list.visualItemRect(first)
    qtbot.mouseClick(resumed.stage_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert resumed.index == 0 and resumed.next_button.isEnabled()
    # Opening another document ends the lesson (its dock goes, progress stays).
    trigger(again, "File", "New")
    assert not again._docks["Lesson"].isVisible()
    assert stages_done(settings, "01-loopback") == 1


def test_show_me_draws_every_stage_of_every_lesson(qtbot, tmp_path) -> None:
    """Show me, from where each stage starts, satisfies the stage's drawing; undo puts the
    drawing back exactly (bridges, veths, addresses, NAT: every lesson's kinds)."""
    window = new_window(qtbot, str(tmp_path / "none.sock"))
    guide = window.newcomer.lessons
    lessons = bundled_lessons()
    assert len(lessons) >= 1
    for lesson in lessons:
        for index, stage in enumerate(lesson.stages):
            panel = guide.start(lesson.name, index)
            assert panel is not None and panel.index == index
            before = window.doc.topology.copy()
            click(qtbot, panel.show_button)
            assert drawing_unmet(stage, window.doc.topology) == [], (lesson.name, index)
            assert window.doc.topology.name == before.name  # the lab that runs stays
            trigger(window, "Edit", "Undo")
            assert window.doc.topology == before, (lesson.name, index)
            window.doc.undo.setClean()


@needs_root
def test_every_lesson_completes_with_show_me_and_apply(qtbot, helper: RunningHelper) -> None:
    """Each stage of each bundled lesson: Show me, Live → Deploy / Apply, the stage's
    kernel checks pass in the dock, Next stage; the lab destroyed between lessons."""
    window = new_window(qtbot, str(helper.socket))
    window.ask_unsaved = lambda name: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    settings = QSettings("nstopo", "nstopo")
    for number, lesson in enumerate(bundled_lessons(), 1):
        trigger(window, "Help", f"{number}. {lesson.title}")
        panel = lesson_panel(window)
        try:
            for index in range(len(lesson.stages)):
                assert panel.index == index
                click(qtbot, panel.show_button)
                trigger(window, "Live", "Deploy / Apply changes")
                qtbot.waitUntil(
                    lambda p=panel, i=index: (
                        p.stage_done(i) or "failed:" in p.todo.text() or bool(p.live.last_error)
                    ),
                    timeout=90000,
                )
                said = (
                    f"{lesson.name} stage {index + 1}: {panel.todo.text()} {panel.live.last_error}"
                )
                assert panel.stage_done(index), said
                if index < len(lesson.stages) - 1:
                    click(qtbot, panel.next_button)
            assert "Lesson complete" in panel.todo.text()
            assert stages_done(settings, lesson.name) == len(lesson.stages)
        finally:
            panel.close_run()
            panel.runner.wait()
            window.live.destroy()
            qtbot.waitUntil(lambda: not window.live.running and not window.live.busy, timeout=30000)
