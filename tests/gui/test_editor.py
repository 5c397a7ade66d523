"""The editor driven like a user would, offscreen (pytest-qt)."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from keys import type_text
from nstopo.gui.commands import Remove
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.gui.view import KIND_MIME
from nstopo.model.types import BridgeNode, NetnsNode
from nstopo.model.yamlfile import load
from nstopo.resources import EXAMPLES
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QDropEvent, QImage, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QMessageBox


def window_for(qtbot, doc: Document | None = None) -> MainWindow:
    window = MainWindow(doc)
    window.ask_unsaved = lambda name: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def opened(qtbot, name: str) -> MainWindow:
    return window_for(qtbot, Document.open(EXAMPLES / f"{name}.yaml"))


def drop(window: MainWindow, kind: str, at: QPoint) -> None:
    mime = QMimeData()
    mime.setData(KIND_MIME, kind.encode())
    event = QDropEvent(
        QPointF(at),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.view.dropEvent(event)


def menu_action(window: MainWindow, menu: str, text: str) -> QAction:
    for top in window.menuBar().actions():
        if top.text().replace("&", "") == menu:
            for action in top.menu().actions():
                if action.text().replace("&", "").startswith(text):
                    return action
    raise AssertionError(f"no {menu} → {text} in the menus")


def snapshot(doc: Document):
    return doc.topology.copy()


def test_palette_drop_creates_a_node_where_it_falls(qtbot) -> None:
    window = window_for(qtbot)
    target = window.view.viewport().rect().center()
    drop(window, "netns", target)
    drop(window, "bridge", target + QPoint(200, 0))
    topo = window.doc.topology
    assert topo.node_names() == ["ns1", "br0"]
    assert isinstance(topo.node("ns1"), NetnsNode) and isinstance(topo.node("br0"), BridgeNode)
    where = window.view.mapToScene(target)
    x, y = topo.node("ns1").position
    assert abs(x - where.x()) <= 10 and abs(y - where.y()) <= 10 and x % 20 == 0
    assert set(window.scene.nodes) == {"ns1", "br0"}
    window.doc.undo.undo()
    assert topo.node_names() == ["ns1"] and set(window.scene.nodes) == {"ns1"}


def test_drawing_a_link_makes_the_pair_with_names_and_addresses(qtbot) -> None:
    window = opened(qtbot, "bridge-fixed")
    window.scene.add_node_at("netns", QPointF(400, 400))
    a, br0 = window.scene.nodes["ns1"], window.scene.nodes["br0"]
    viewport = window.view.viewport()
    start = window.view.mapFromScene(a.pos())
    end = window.view.mapFromScene(br0.pos())
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, start)
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, end)
    links = [link for _, link in window.doc.topology.links()]
    assert len(links) == 2
    ns_end, port = links[1].endpoints
    assert (ns_end.node, ns_end.interface, ns_end.addresses) == ("ns1", "eth0", ("10.77.0.3/24",))
    assert (port.node, port.interface, port.addresses) == ("br0", "p-ns1", ())
    assert len(window.scene.links) == 2


def test_an_illegal_link_is_refused_with_a_message(qtbot) -> None:
    window = opened(qtbot, "tap-bridge")
    before = snapshot(window.doc)
    messages: list[str] = []
    window.scene.message.connect(lambda text, _: messages.append(text))
    assert window.scene.connect_nodes("vm-peer", "tap0", QPointF(0, 0)) is None
    assert window.doc.topology == before
    assert messages and "a veth cannot end on tap tap0" in messages[0]
    assert "a veth cannot end on tap tap0" in window.statusBar().currentMessage()


def test_inspector_edit_changes_the_model_and_undo_restores_it(qtbot) -> None:
    window = opened(qtbot, "bridge-fixed")
    before = snapshot(window.doc)
    window.scene.select(["br0"])
    edit = window.inspector.findChild(QLineEdit, "addresses")
    type_text(qtbot, edit, "10.77.0.1/24, fd00:77::1/64")
    assert window.doc.topology.node("br0").addresses == ("10.77.0.1/24", "fd00:77::1/64")
    state = window.inspector.findChild(QComboBox, "state")
    state.setCurrentText("down")
    assert window.doc.topology.node("br0").state == "down"
    assert window.doc.dirty and window.windowTitle().startswith("bridge-fixed.yaml*")
    window.doc.undo.undo()
    window.doc.undo.undo()
    assert window.doc.topology == before and not window.doc.dirty


def test_an_invalid_inspector_edit_shows_why_and_changes_nothing(qtbot) -> None:
    window = opened(qtbot, "bridge-fixed")
    before = snapshot(window.doc)
    window.scene.select(["br0"])
    edit = window.inspector.findChild(QLineEdit, "addresses")
    type_text(qtbot, edit, "10.77.0.999/24")
    assert window.doc.topology == before
    assert "is not an address with a prefix length" in window.inspector.error.text()
    mtu = window.inspector.fields["mtu"]
    type_text(qtbot, mtu, "20")
    assert window.doc.topology == before
    assert "greater than or equal to 68" in window.inspector.error.text()
    assert window.doc.undo.count() == 0


def test_undo_redo_of_each_operation_returns_the_exact_document(qtbot) -> None:
    window = opened(qtbot, "container-bridge")
    doc = window.doc
    states = [snapshot(doc)]
    window.scene.add_node_at("netns", QPointF(600, 600))
    states.append(snapshot(doc))
    window.scene.connect_nodes("ns1", "cbr0", QPointF(0, 0))
    states.append(snapshot(doc))
    doc.push(Remove(doc, ["c1"], []))  # a node with a link: both go, both come back
    states.append(snapshot(doc))
    window.scene.select(["far", "c2"])
    window.editing.layout_all()
    states.append(snapshot(doc))
    window.scene.select(["router"])
    window.editing.duplicate()
    states.append(snapshot(doc))
    window.inspector.show_subject(("node", "router"))
    name = window.inspector.findChild(QLineEdit, "name")
    type_text(qtbot, name, "gateway")
    states.append(snapshot(doc))
    assert "gateway" in doc.topology and doc.topology.node("cbr0").namespace == "gateway"
    for expected in reversed(states[:-1]):
        doc.undo.undo()
        assert doc.topology == expected
        assert set(window.scene.nodes) == set(expected.node_names())
        assert set(window.scene.links) == set(expected.link_ids())
    for expected in states[1:]:
        doc.undo.redo()
        assert doc.topology == expected


def test_one_drag_is_one_undo_step(qtbot) -> None:
    window = opened(qtbot, "bridge-fixed")
    window.scene.select(["hub", "a"])
    for name in ("hub", "a"):
        item = window.scene.nodes[name]
        window.scene._press_positions[name] = item.pos()
        item.setPos(item.pos() + QPointF(100, 60))
    window.scene.finish_drag()
    assert window.doc.undo.count() == 1
    assert window.doc.topology.node("hub").position == (100.0, 60.0)
    window.doc.undo.undo()
    assert window.doc.topology.node("hub").position == (0.0, 0.0)
    assert window.scene.nodes["hub"].pos() == QPointF(0, 0)


def test_a_mouse_drag_moves_the_node_and_its_links_in_one_step(qtbot) -> None:
    window = opened(qtbot, "bridge-fixed")
    window.show()
    view, item = window.view, window.scene.nodes["a"]
    lid = window.doc.topology.link_ids()[0]
    before = window.scene.links[lid].line
    start = QPointF(view.mapFromScene(item.pos()))

    def mouse(kind: QEvent.Type, at: QPointF, buttons: Qt.MouseButton) -> None:
        button = (
            Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
        )
        event = QMouseEvent(kind, at, view.viewport().mapToGlobal(at), button, buttons,
                            Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(view.viewport(), event)

    held = Qt.MouseButton.LeftButton
    mouse(QEvent.Type.MouseButtonPress, start, held)
    for step in range(1, 6):
        mouse(QEvent.Type.MouseMove, start + QPointF(20 * step, 10 * step), held)
        assert window.scene.layer.interactive  # lines drawn fast while dragging
    mouse(QEvent.Type.MouseButtonRelease, start + QPointF(100, 50), Qt.MouseButton.NoButton)
    assert not window.scene.layer.interactive  # and smooth again after
    assert window.doc.undo.count() == 1
    assert window.doc.topology.node("a").position != (360.0, 160.0)
    assert window.scene.links[lid].line != before  # the link followed its node


def test_save_then_open_round_trip_keeps_comments(qtbot, tmp_path: Path) -> None:
    source = tmp_path / "lab.yaml"
    source.write_text((EXAMPLES / "bridge-pitfall.yaml").read_text())
    window = window_for(qtbot, Document.open(source))
    window.scene.select(["a"])
    window.scene.add_node_at("netns", QPointF(300, 300))
    assert window.save()
    assert not window.doc.dirty and "*" not in window.windowTitle()
    text = source.read_text()
    assert "# Experiment 3, the pitfall" in text and "# the mistake" in text
    again = load(source).topology
    assert again == window.doc.topology


def test_png_and_svg_export(qtbot, tmp_path: Path) -> None:
    window = opened(qtbot, "container-bridge")
    png, svg = tmp_path / "lab.png", tmp_path / "lab.svg"
    window.export_to("png", png)
    window.export_to("svg", svg)
    image = QImage(str(png))
    area = window.scene.content_rect().adjusted(-30, -30, 30, 30)
    assert (image.width(), image.height()) == (int(area.width() * 2), int(area.height() * 2))
    root = ElementTree.parse(svg).getroot()
    assert root.tag.endswith("svg")
    text = svg.read_text()
    assert not re.search(r'(xlink:href|href)="(?!#)', text)  # nothing external
    assert "http://" not in text.replace("http://www.w3.org", "")
    assert "router" in text and "10.80.1.2/24" in text


def test_containerlab_and_script_export(qtbot, tmp_path: Path) -> None:
    window = opened(qtbot, "container-bridge")
    clab, script = tmp_path / "lab.clab.yml", tmp_path / "lab.sh"
    window.export_to("clab", clab)
    window.export_to("sh", script)
    assert "router:veth-c1" in clab.read_text() and "kind: linux" in clab.read_text()
    assert script.read_text().startswith("#!/usr/bin/env bash") and script.stat().st_mode & 0o111


def test_autosave_writes_only_unsaved_work(qtbot) -> None:
    from nstopo.gui.autosave import recoverable

    window = opened(qtbot, "veth-namespaces")
    window.write_autosave()
    assert not window.autosave_path().exists()  # nothing unsaved, nothing written
    window.scene.add_node_at("netns", QPointF(0, 300))
    window.write_autosave()
    saved = window.autosave_path()
    assert "ns1:" in saved.read_text()
    assert recoverable() == []  # its editor still runs: nothing to recover
    window.drop_autosave()
    assert not saved.exists()


def test_problems_panel_lists_and_selects(qtbot) -> None:
    window = opened(qtbot, "bridge-pitfall")
    item = window.problems.item(0)
    assert "enslaved to bridge" in item.text()
    window.problems._activate(item)
    assert window.scene.selected_names() == ([], [window.doc.topology.link_ids()[0]])
    window.show()
    window._docks["Commands"].raise_()  # a tab behind another catches up when shown
    qtbot.waitUntil(
        lambda: "ip -n hub addr add 10.77.0.1/24 dev p0" in window.commands.toPlainText()
    )


def test_closing_with_unsaved_changes_asks_first(qtbot, tmp_path: Path) -> None:
    source = tmp_path / "lab.yaml"
    source.write_text((EXAMPLES / "veth-namespaces.yaml").read_text())
    window = window_for(qtbot, Document.open(source))
    window.scene.add_node_at("netns", QPointF(0, 300))
    asked: list[str] = []

    def answer(button: QMessageBox.StandardButton):
        return lambda name: asked.append(name) or button

    window.ask_unsaved = answer(QMessageBox.StandardButton.Cancel)  # type: ignore[method-assign]
    assert window.close() is False and window.isVisible()
    window.ask_unsaved = answer(QMessageBox.StandardButton.Save)  # type: ignore[method-assign]
    assert window.close() is True
    assert asked == ["lab.yaml", "lab.yaml"]
    assert "ns1:" in source.read_text()


def test_copy_paste_through_the_clipboard_renames_and_keeps_inner_links(qtbot) -> None:
    window = opened(qtbot, "bridge-fixed")
    before = snapshot(window.doc)
    window.scene.select(["hub", "br0", "a"])
    # The real menu actions: triggered(checked) once reached paste() as its data (False).
    menu_action(window, "Edit", "Copy").trigger()
    menu_action(window, "Edit", "Paste").trigger()
    topo = window.doc.topology
    assert {"hub-2", "br0-2", "a-2"} <= set(topo.node_names())
    assert topo.node("br0-2").namespace == "hub-2"  # references follow the new names
    pasted = [
        link
        for _, link in topo.links()
        if link.endpoints[0].node.endswith("-2") or link.endpoints[1].node.endswith("-2")
    ]
    assert len(pasted) == 1
    assert {ep.node for ep in pasted[0].endpoints} == {"br0-2", "a-2"}
    assert sorted(window.scene.selected_names()[0]) == ["a-2", "br0-2", "hub-2"]
    window.doc.undo.undo()
    assert window.doc.topology == before
    window.scene.select(["a"])
    menu_action(window, "Edit", "Duplicate").trigger()
    assert "a-2" in window.doc.topology and window.scene.selected_names()[0] == ["a-2"]


def test_the_canvas_follows_the_desktop_into_dark_and_back(qtbot) -> None:
    window = opened(qtbot, "bridge-fixed")
    window.show()
    window.scene.select(["a"])
    app = QApplication.instance()
    light = app.palette()
    dark = QPalette(light)
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#e8eaed"))
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: window.scene.theme.dark, timeout=3000)
        scene = window.scene
        assert scene.backgroundBrush().color().lightness() < 60
        assert all(item.theme.dark for item in scene.nodes.values()) and scene.layer.theme.dark
        assert scene.selected_names() == (["a"], [])  # the selection survives
        picture = window.view.grab().toImage()
        assert picture.pixelColor(5, 5).lightness() < 60  # drawn dark, not only told so
    finally:
        app.setPalette(light)
    qtbot.waitUntil(lambda: not window.scene.theme.dark, timeout=3000)
    assert window.scene.backgroundBrush().color().lightness() > 200


def test_labels_of_a_link_too_short_for_them_are_not_hidden_under_a_node(qtbot) -> None:
    window = opened(qtbot, "bridge-fixed")
    scene = window.scene
    lid = window.doc.topology.link_ids()[0]
    link = scene.links[lid]
    assert not link.crowded and link.plain  # far apart: drawn by the link layer
    scene.nodes["a"].setPos(QPointF(215, 160))  # 20 px between the boxes
    assert link.crowded
    assert scene.layer.above.zValue() > scene.nodes["a"].zValue()  # labels above the boxes
    inside = scene.nodes["a"].sceneBoundingRect().adjusted(4, 4, -4, -4)
    box = next(box for box, label in link.label_boxes if label == "p0")
    hidden = box.intersected(inside)  # where a label under the node would not show
    assert not hidden.isEmpty()
    picture = QImage(hidden.size().toSize(), QImage.Format.Format_RGB32)
    painter = QPainter(picture)
    scene.render(painter, QRectF(QPointF(0, 0), hidden.size()), hidden)
    painter.end()
    ink = [
        picture.pixelColor(x, y).lightness() < 128
        for x in range(picture.width())
        for y in range(picture.height())
    ]
    assert any(ink)  # the label's letters are drawn over the node's white box
    scene.nodes["a"].setPos(QPointF(360, 160))
    assert not link.crowded


def test_the_link_tool_draws_without_shift_and_tools_exclude_each_other(qtbot) -> None:
    window = opened(qtbot, "bridge-fixed")
    window.scene.add_node_at("netns", QPointF(400, 400))
    viewport = window.view.viewport()
    start = window.view.mapFromScene(window.scene.nodes["ns1"].pos())
    end = window.view.mapFromScene(window.scene.nodes["br0"].pos())
    window.tools.link.trigger()
    assert window.scene.tool.name == "link"
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert len(window.doc.topology.link_ids()) == 2
    assert window.scene.nodes["ns1"].pos() == QPointF(400, 400)  # drew, did not drag
    window.tools.ping.trigger()
    assert window.scene.tool.name == "ping" and not window.tools.link.isChecked()
    window.tools.ping.trigger()
    assert window.scene.tool.name == "select"


def test_escape_drops_a_half_drawn_link_and_returns_to_selecting(qtbot) -> None:
    window = opened(qtbot, "bridge-fixed")
    window.show()
    viewport = window.view.viewport()
    window.tools.link.trigger()
    start = window.view.mapFromScene(window.scene.nodes["a"].pos())
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(40, 40))
    lines = [i for i in window.scene.items() if type(i).__name__ == "QGraphicsLineItem"]
    assert len(lines) == 1  # the dashed line being drawn
    qtbot.keyClick(viewport, Qt.Key.Key_Escape)
    assert not [i for i in window.scene.items() if type(i).__name__ == "QGraphicsLineItem"]
    assert window.scene.tool.name == "select" and not window.tools.link.isChecked()
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 40))
    assert len(window.doc.topology.link_ids()) == 1  # nothing was made
    window.tools.ping.trigger()
    qtbot.keyClick(viewport, Qt.Key.Key_Escape)
    assert window.scene.tool.name == "select" and not window.tools.ping.isChecked()
