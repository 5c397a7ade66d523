"""Right-click menus on the canvas and on every item (issue 12): rename, delete and
properties on nodes and links; paste, select all, lay out and add a node on the empty
canvas. Real right-clicks on the view, the real QAction of the menu that pops up."""

from __future__ import annotations

from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.resources import EXAMPLES
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu


def opened(qtbot, example: str = "bridge-pitfall") -> MainWindow:
    window = MainWindow(Document.open(EXAMPLES / f"{example}.yaml"), "/nonexistent/helper.sock")
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def right_click_at(window: MainWindow, spot: QPointF) -> QMenu:
    view = window.view
    view.ensureVisible(QRectF(spot, spot), 20, 20)
    at = view.mapFromScene(spot)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, view.viewport().mapToGlobal(at))
    QApplication.sendEvent(view.viewport(), event)
    menu = window.live_control.menu
    assert menu is not None and menu.isVisible()
    menu.close()
    return menu


def on_node(window: MainWindow, node: str) -> QMenu:
    return right_click_at(window, window.scene.nodes[node].sceneBoundingRect().center())


def on_link(window: MainWindow, lid: str) -> QMenu:
    item = window.scene.links[lid]
    a, b = (end.sceneBoundingRect() for end in (item.a, item.b))
    for t in (0.5, 0.4, 0.6):
        spot = a.center() + (b.center() - a.center()) * t
        if not (a.contains(spot) or b.contains(spot)):
            break
    return right_click_at(window, spot)


def beside_the_drawing(window: MainWindow) -> QPointF:
    return window.scene.content_rect().bottomRight() + QPointF(80, 80)


def entry(menu: QMenu, text: str) -> QAction:
    for action in menu.actions():
        if action.text() == text:
            return action
        if action.menu() is not None:
            for inner in action.menu().actions():
                if f"{action.text()} → {inner.text()}" == text:
                    return inner
    raise AssertionError(f"no {text!r} in {[a.text() for a in menu.actions()]}")


def test_rename_from_a_nodes_menu_edits_the_name_in_place(qtbot) -> None:
    window = opened(qtbot)
    entry(on_node(window, "a"), "Rename a…").trigger()
    editor = window.view.renaming
    assert editor is not None and editor.text() == "a"
    qtbot.keyClicks(editor, "client")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert "client" in window.doc.topology and "a" not in window.doc.topology


def test_delete_from_the_menu_removes_the_clicked_item_or_the_selection(qtbot) -> None:
    window = opened(qtbot)
    topo = window.doc.topology
    (lid,) = topo.link_ids()
    window.scene.select(["hub"])  # something else selected: the right-click picks the link
    entry(on_link(window, lid), "Delete link").trigger()
    assert not topo.has_link(lid) and "hub" in topo
    window.doc.undo.undo()
    assert topo.has_link(lid)
    window.scene.select(["a", "hub"])  # a right-click on one of them keeps both
    entry(on_node(window, "a"), "Delete 2 items").trigger()
    assert "a" not in topo and "hub" not in topo and "br0" in topo


def test_properties_shows_the_item_in_the_inspector(qtbot) -> None:
    window = opened(qtbot)
    window.raise_dock("Problems")
    entry(on_node(window, "br0"), "Properties").trigger()
    assert window.inspector.subject == ("node", "br0")
    assert window.inspector.isVisible()


def test_the_empty_canvas_adds_a_node_where_it_was_clicked_and_pastes_there(qtbot) -> None:
    window = opened(qtbot)
    spot = beside_the_drawing(window)
    menu = right_click_at(window, spot)
    assert not entry(menu, "Paste here").isEnabled()  # nothing copied yet
    before = set(window.doc.topology.node_names())
    entry(menu, "Add here → Bridge").trigger()
    (added,) = set(window.doc.topology.node_names()) - before
    box = window.scene.nodes[added].sceneBoundingRect()
    assert box.adjusted(-40, -40, 40, 40).contains(spot)
    # Copy a, then Paste here somewhere else: the copy lands at that spot.
    window.scene.select(["a"])
    window.editing.copy()
    elsewhere = spot + QPointF(0, 200)
    entry(right_click_at(window, elsewhere), "Paste here").trigger()
    (pasted,) = set(window.doc.topology.node_names()) - before - {added}
    x, y = window.doc.topology.node(pasted).position
    assert abs(x - elsewhere.x()) < 30 and abs(y - elsewhere.y()) < 30
    entry(right_click_at(window, spot + QPointF(200, 0)), "Select all").trigger()
    assert set(window.scene.selected_names()[0]) == set(window.doc.topology.node_names())


def test_what_nstopo_did_not_make_cannot_be_renamed_or_deleted_from_its_menu(qtbot) -> None:
    window = opened(qtbot)
    window.doc.foreign_nodes = {"a"}
    menu = on_node(window, "a")
    assert not entry(menu, "Rename a…").isEnabled() and not entry(menu, "Delete a").isEnabled()
    assert entry(menu, "Properties").isEnabled()
