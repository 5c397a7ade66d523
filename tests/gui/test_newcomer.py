"""What a newcomer meets before any lab runs (issue 12): the palette explains its
kinds and stays readable in dark mode; the canvas holds still while one draws."""

from __future__ import annotations

from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.gui.panels import KINDS
from nstopo.model.edit import new_link
from nstopo.model.topology import Topology
from nstopo.model.types import BridgeNode, NetnsNode
from nstopo.resources import EXAMPLES
from palette_drop import drop_kind
from PySide6.QtCore import QPoint, QPointF, Qt
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


def on_screen(window: MainWindow, name: str) -> QPoint:
    return window.view.mapFromScene(window.scene.nodes[name].sceneBoundingRect().center())


def test_the_canvas_holds_still_while_nodes_and_links_are_added(qtbot) -> None:
    window = new_window(qtbot)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(100)  # the start-up fit of the empty canvas is done
    port = window.view.viewport()
    drop_kind(window, "netns", QPoint(port.width() // 4, port.height() // 3))
    qtbot.wait(50)
    first = on_screen(window, "ns1")
    drop_kind(window, "bridge", QPoint(port.width() * 3 // 4, port.height() * 3 // 4))
    QApplication.processEvents()
    assert on_screen(window, "ns1") == first  # the view did not re-centre
    window.scene.connect_nodes("ns1", "br0", QPointF(0, 0))
    QApplication.processEvents()
    assert on_screen(window, "ns1") == first
    # Two drops at the same place: the second lands beside the first, not on it.
    spot = QPoint(port.width() // 2, port.height() // 4)
    drop_kind(window, "netns", spot)
    drop_kind(window, "netns", spot)
    boxes = [window.scene.nodes[n].sceneBoundingRect() for n in ("ns2", "ns3")]
    assert not boxes[0].intersects(boxes[1])


def test_f2_and_a_double_click_rename_a_node_in_place(qtbot) -> None:
    window = MainWindow(Document.open(EXAMPLES / "bridge-pitfall.yaml"), "/nonexistent")
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    view = window.view
    window.scene.select(["a"])
    view.setFocus()
    qtbot.keyClick(view.viewport(), Qt.Key.Key_F2)
    editor = view.renaming
    assert editor is not None and editor.text() == "a" and window.focusWidget() is editor
    qtbot.keyClicks(editor, "bad/name")  # the whole name was selected: replaced
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert "a" in window.doc.topology and view.renaming is editor  # refused, still open
    assert "/" in window.statusBar().currentMessage()
    editor.selectAll()
    qtbot.keyClicks(editor, "client")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert "client" in window.doc.topology and "a" not in window.doc.topology
    assert window.scene.selected_names() == (["client"], []) and view.renaming is None
    window.doc.undo.undo()  # one step
    assert "a" in window.doc.topology
    # A double-click opens it too; Esc leaves the name as it was.
    spot = view.mapFromScene(window.scene.nodes["hub"].sceneBoundingRect().center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    editor = view.renaming
    assert editor is not None and editor.text() == "hub"
    qtbot.keyClicks(editor, "elsewhere")
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert "hub" in window.doc.topology and view.renaming is None


def test_a_bridge_port_named_after_a_node_follows_its_rename(qtbot) -> None:
    """Issue 12: after renaming ns1 to a, its bridge port was still called p-ns1."""
    topo = Topology("lab", "10.77.0.0/16")
    topo.add_node("hub", NetnsNode(position=(0.0, 0.0)))
    topo.add_node("br0", BridgeNode(namespace="hub", position=(0.0, 160.0)))
    topo.add_node("ns1", NetnsNode(position=(360.0, 160.0)))
    topo.add_link(new_link(topo, "ns1", "br0"))
    window = MainWindow(Document(topo), "/nonexistent")
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    (lid,) = window.doc.topology.link_ids()
    assert [ep.short for ep in window.doc.topology.link(lid).endpoints] == ["ns1:eth0", "br0:p-ns1"]
    window.scene.select(["ns1"])
    window.view.setFocus()
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_F2)
    editor = window.view.renaming
    assert editor is not None
    qtbot.keyClicks(editor, "a")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert [ep.short for ep in window.doc.topology.link(lid).endpoints] == ["a:eth0", "br0:p-a"]
    assert window.scene.links[lid].labels[1].startswith("p-a")  # what the canvas writes
    assert window.doc.undo.count() == 1  # the rename and its port: one step
    undo = next(a for a in window.menuBar().actions() if a.text().replace("&", "") == "Edit")
    (action,) = [a for a in undo.menu().actions() if a.text().replace("&", "").startswith("Undo")]
    action.trigger()
    assert [ep.short for ep in window.doc.topology.link(lid).endpoints] == ["ns1:eth0", "br0:p-ns1"]
    assert window.scene.links[lid].labels[1].startswith("p-ns1")
