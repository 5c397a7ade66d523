"""No stale link lines (issue 12, item 3): a node that grows with a new interface moves
where its other links meet it at once, not only once something moves."""

from __future__ import annotations

from nstopo.gui.commands import AddLink
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.model.types import Endpoint, Link
from nstopo.resources import EXAMPLES
from PySide6.QtGui import QImage


def grab(window: MainWindow, qtbot) -> QImage:
    qtbot.wait(50)
    return window.view.viewport().grab().toImage()


def test_new_links_leave_no_stale_lines_on_the_grown_nodes(qtbot) -> None:
    window = MainWindow(Document.open(EXAMPLES / "container-bridge.yaml"), "/nonexistent")
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.resize(1100, 800)
    window.show()
    qtbot.waitExposed(window)
    doc = window.doc
    for i in (1, 2):  # c1 and c2 get taller: their diagonal links to cbr0 must follow
        ends = (Endpoint("c1", f"eth{i}", (f"10.9.{i}.1/24",)), Endpoint("c2", f"eth{i}"))
        doc.push(AddLink(doc, Link(ends)))
    shown = grab(window, qtbot)
    scene = window.view.scene()
    for item in scene.links.values():  # what moving a node does to its links
        item.follow()
    scene.invalidate()
    assert grab(window, qtbot) == shown
