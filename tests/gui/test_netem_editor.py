"""Impairments in the editor: typed into the link inspector's grid with real key
events, both directions side by side; undo; the refused edit; the canvas label."""

from __future__ import annotations

from keys import type_text
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.model.netem import Netem
from nstopo.resources import EXAMPLES
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox, QSpinBox


def opened(qtbot, name: str) -> MainWindow:
    window = MainWindow(Document.open(EXAMPLES / f"{name}.yaml"))
    window.ask_unsaved = lambda name: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def the_link(window: MainWindow) -> str:
    (lid,) = window.doc.topology.link_ids()
    window.scene.select([], [lid])
    return lid


def type_into(qtbot, window: MainWindow, key: str, text: str) -> None:
    """Click into the field, replace its text with typed keys, press Return."""
    edit = window.inspector.findChild(QLineEdit, key)
    assert edit is not None, key
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_a_delay_typed_for_both_directions_goes_on_the_link_and_shows_on_the_canvas(
    qtbot,
) -> None:
    window = opened(qtbot, "veth-namespaces")
    lid = the_link(window)
    before = window.doc.topology.copy()
    type_into(qtbot, window, "netem.a.delay", "20ms")
    link = window.doc.topology.link(lid)
    assert link.endpoints[0].netem == Netem(delay="20ms") and link.netem is None
    assert window.scene.links[lid].impairment.startswith("→ 20 ms")
    type_into(qtbot, window, "netem.b.delay", "20ms")
    type_into(qtbot, window, "netem.a.loss", "1%")
    type_into(qtbot, window, "netem.b.loss", "1%")
    link = window.doc.topology.link(lid)
    assert link.netem == Netem(delay="20ms", loss="1%")  # the same both ways: on the link
    assert [ep.netem for ep in link.endpoints] == [None, None]
    item = window.scene.links[lid]
    assert item.impairment == "20 ms, 1% loss" and not item.plain  # drawn apart, dashed
    assert window.doc.dirty
    for _ in range(4):
        window.doc.undo.undo()
    assert window.doc.topology == before
    assert window.scene.links[lid].impairment == ""


def test_each_direction_of_a_link_is_its_own_column(qtbot) -> None:
    window = opened(qtbot, "veth-namespaces")
    lid = the_link(window)
    type_into(qtbot, window, "netem.a.rate", "10mbit")
    type_into(qtbot, window, "netem.b.delay", "50ms")
    type_into(qtbot, window, "netem.b.jitter", "5ms")
    link = window.doc.topology.link(lid)
    assert [ep.netem for ep in link.endpoints] == [
        Netem(rate="10mbit"),
        Netem(delay="50ms", jitter="5ms"),
    ]
    assert window.scene.links[lid].impairment == "→ 10 Mbit/s · ← 50 ms ±5"


def test_a_refused_impairment_says_why_and_changes_nothing(qtbot) -> None:
    window = opened(qtbot, "veth-namespaces")
    lid = the_link(window)
    before = window.doc.topology.copy()
    type_into(qtbot, window, "netem.a.jitter", "2ms")
    assert "jitter without delay" in window.inspector.error.text()
    type_into(qtbot, window, "netem.a.jitter", "")
    type_into(qtbot, window, "netem.a.loss", "140%")
    assert "more than 100%" in window.inspector.error.text()
    assert window.doc.topology == before
    assert window.scene.links[lid].impairment == ""


def test_editing_another_field_of_an_impaired_link_keeps_its_impairment(qtbot) -> None:
    window = opened(qtbot, "veth-namespaces")
    lid = the_link(window)
    type_into(qtbot, window, "netem.a.delay", "20ms")
    type_into(qtbot, window, "netem.b.delay", "20ms")
    mtu = window.inspector.findChild(QSpinBox, "mtu")
    type_text(qtbot, mtu, "1400")
    link = window.doc.topology.link(lid)
    assert (link.mtu, link.netem) == (1400, Netem(delay="20ms"))
