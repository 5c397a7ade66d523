"""The Labs dock against a real helper (root, sandboxed): what runs is listed, wherever
it was applied; open one, destroy one after confirming; Ctrl+N does not take a
running lab's name (issue 12)."""

from __future__ import annotations

import sys
from pathlib import Path

from helper_process import RunningHelper
from menus import trigger
from nstopo.gui.document import Document
from nstopo.gui.labsdock import LabsPanel
from nstopo.gui.mainwindow import MainWindow
from nstopo.resources import EXAMPLES
from palette_drop import drop_kind
from PySide6.QtCore import QPoint, Qt
from sandbox import needs_root

pytestmark = needs_root
NSTOPO = str(Path(sys.executable).parent / "nstopo")


def cli(helper: RunningHelper, *args: str) -> None:
    import os
    import subprocess

    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    subprocess.run([NSTOPO, *args], env=env, check=True, capture_output=True, timeout=60)


def listed(panel: LabsPanel) -> list[str]:
    tree = panel.tree
    return [tree.topLevelItem(r).text(0) for r in range(tree.topLevelItemCount())]


def test_labs_applied_anywhere_are_listed_opened_and_destroyed(qtbot, helper) -> None:
    window = MainWindow(Document(), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    panel = window.newcomer.labs
    assert window._docks["Labs"].widget() is panel
    window._docks["Labs"].raise_()  # its tab, clicked: on screen it keeps itself current
    qtbot.waitUntil(lambda: panel.status.text() == "No lab runs on the helper.", timeout=5000)
    cli(helper, "apply", str(EXAMPLES / "veth-namespaces.yaml"))  # from the command line
    cli(helper, "apply", str(EXAMPLES / "loopback.yaml"))
    qtbot.waitUntil(lambda: listed(panel) == ["loopback", "veth-namespaces"], timeout=5000)
    row = panel.tree.topLevelItem(1)
    assert row.text(1) == "2"  # two namespaces
    # Open: the running lab as a document, laid out, its live state followed.
    panel.select("veth-namespaces")
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.doc.topology.name == "veth-namespaces", timeout=5000)
    assert {"left", "right"} <= set(window.doc.topology.node_names())
    qtbot.waitUntil(lambda: window.live.running, timeout=5000)
    qtbot.waitUntil(lambda: "veth-namespaces  (open)" in listed(panel), timeout=5000)
    # Destroy asks first; No keeps it.
    answers = iter([False, True])
    panel.ask_destroy = lambda lab: next(answers)  # type: ignore[method-assign]
    panel.select("loopback")
    qtbot.mouseClick(panel.destroy_button, Qt.MouseButton.LeftButton)
    assert "ns1" in helper.facts()["namespaces"]
    qtbot.mouseClick(panel.destroy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: listed(panel) == ["veth-namespaces  (open)"], timeout=10000)
    assert helper.facts()["namespaces"] == ["left", "right"]
    cli(helper, "destroy", "veth-namespaces")
    qtbot.waitUntil(lambda: listed(panel) == [], timeout=5000)
    window.close()


def test_a_new_document_does_not_bind_to_a_running_lab_called_lab(qtbot, helper) -> None:
    lab = Path(helper.base / "lab.yaml")
    lab.write_text("nstopo: 1\nname: lab\nnodes:\n  ns1: {kind: netns}\n")
    cli(helper, "apply", str(lab))
    window = MainWindow(Document.open(EXAMPLES / "loopback.yaml"), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    qtbot.waitUntil(lambda: "lab" in window.newcomer.labs.names, timeout=5000)
    trigger(window, "File", "New")
    assert window.doc.topology.name == "lab-2" and not window.doc.dirty
    qtbot.waitUntil(lambda: "is not deployed" in window.live_panel.status.text(), timeout=5000)
    assert not window.live.running and not window.live.pending_steps  # no "ip netns del ns1"
    # A namespace dropped on the new lab is not named ns1, which the running lab holds
    # (its deploy would be refused: "namespace ns1 belongs to lab lab").
    port = window.view.viewport()
    drop_kind(window, "netns", QPoint(port.width() // 2, port.height() // 2))
    assert window.doc.topology.node_names() == ["ns2"]
    cli(helper, "destroy", "lab")
    window.close()
