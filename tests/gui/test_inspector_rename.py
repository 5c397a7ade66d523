"""Renaming a node in the inspector and leaving the field the ways people do: Tab to the
next field, a click on the canvas (the editor crashed in libQt6Widgets on both: the form
was rebuilt, deleting the field that was still handling its focus-out)."""

from __future__ import annotations

from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.resources import EXAMPLES
from PySide6.QtCore import QPoint, Qt


def shown(qtbot) -> MainWindow:
    window = MainWindow(Document.open(EXAMPLES / "bridge-pitfall.yaml"), "/nonexistent.sock")
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window


def click_node(qtbot, window: MainWindow, node: str) -> None:
    spot = window.view.mapFromScene(window.scene.nodes[node].sceneBoundingRect().center())
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    qtbot.waitUntil(lambda: window.inspector.subject == ("node", node))


def type_name(qtbot, window: MainWindow, name: str):
    qtbot.waitUntil(lambda: window.inspector.fields["name"].isVisible())  # laid out
    field = window.inspector.fields["name"]
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(field.hasFocus)
    field.selectAll()
    qtbot.keyClicks(field, name)
    return field


def test_tab_out_of_a_renamed_node_keeps_the_editor_and_the_focus(qtbot) -> None:
    window = shown(qtbot)
    click_node(qtbot, window, "a")
    type_name(qtbot, window, "client")
    qtbot.keyClick(window.inspector.fields["name"], Qt.Key.Key_Tab)
    qtbot.wait(50)  # the deferred deletions and the focus change have run
    assert "client" in window.doc.topology and "a" not in window.doc.topology
    assert window.inspector.subject == ("node", "client")
    assert window.inspector.fields["name"].text() == "client"
    focus = window.focusWidget()
    assert focus is window.inspector.fields["loopback"]  # the next field, still there
    # And on with the next field: its edit reaches the renamed node.
    type_name(qtbot, window, "gateway")
    qtbot.keyClick(window.inspector.fields["name"], Qt.Key.Key_Return)
    assert "gateway" in window.doc.topology


def test_a_click_on_the_canvas_after_typing_a_name_renames_and_selects_that(qtbot) -> None:
    window = shown(qtbot)
    click_node(qtbot, window, "a")
    type_name(qtbot, window, "client")
    empty = window.view.mapFromScene(window.scene.content_rect().bottomRight()) + QPoint(30, 30)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    qtbot.wait(50)
    assert "client" in window.doc.topology
    click_node(qtbot, window, "hub")  # a click on another node, right after another rename
    type_name(qtbot, window, "router")
    click_node(qtbot, window, "client")
    qtbot.wait(50)
    assert "router" in window.doc.topology and window.inspector.subject == ("node", "client")
