"""The editor listens to its own lab only, also before that lab runs (the helper's
subscribe-ahead): another lab's kernel events never reach it, and its own lab applied
from the command line shows up live on the canvas."""

from __future__ import annotations

from typing import Any

from helper_process import RunningHelper
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.gui.theme import OPER_COLORS
from nstopo.resources import EXAMPLES
from PySide6.QtGui import QColor
from sandbox import needs_root

pytestmark = needs_root
UP = QColor(OPER_COLORS["UP"])


def test_the_editor_hears_its_own_lab_only_and_before_it_runs(qtbot, helper: RunningHelper):
    window = MainWindow(Document.open(EXAMPLES / "veth-namespaces.yaml"), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    heard: list[tuple[str, Any]] = []
    window.connection.notification.connect(lambda method, params: heard.append((method, params)))
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    qtbot.waitUntil(lambda: not window.live.running and window.live.lab == "veth-namespaces")
    with helper.client() as client:  # another lab, e.g. `nstopo apply` in a terminal
        client.call("lab.apply", {"topology": (EXAMPLES / "bridge-fixed.yaml").read_text()})
        client.call("lab.apply", {"topology": (EXAMPLES / "veth-namespaces.yaml").read_text()})
    lid = window.doc.topology.link_ids()[0]

    def both_ends_up() -> bool:
        marks = window.scene.links[lid].end_marks
        return all(mark is not None and mark.color == UP for mark in marks)

    qtbot.waitUntil(lambda: window.live.running and both_ends_up(), timeout=10000)
    labs = {params.get("lab") for _, params in heard if isinstance(params, dict)}
    assert labs == {"veth-namespaces"}, labs
    assert any(method == "link.changed" for method, _ in heard)
    window.close()
