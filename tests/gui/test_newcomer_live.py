"""The Live panel as a newcomer uses it, against a real helper (root, sandboxed):
Destroy asks first, an error leaves once the drawing is fixed, the FDB shows whole
MACs (issue 12)."""

from __future__ import annotations

from helper_process import RunningHelper
from nstopo.gui.document import Document
from nstopo.gui.fdbdialog import FdbDialog
from nstopo.gui.livemenu import live_menu
from nstopo.gui.mainwindow import MainWindow
from nstopo.resources import EXAMPLES
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from sandbox import needs_root

pytestmark = needs_root


def live_window(qtbot, helper: RunningHelper, example: str) -> MainWindow:
    window = MainWindow(Document.open(EXAMPLES / f"{example}.yaml"), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    return window


def deploy(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(window.live_panel.deploy_button.isEnabled, timeout=5000)
    qtbot.mouseClick(window.live_panel.deploy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.live.busy, timeout=30000)


def test_destroy_asks_and_cancel_keeps_the_lab(qtbot, helper: RunningHelper) -> None:
    window = live_window(qtbot, helper, "veth-namespaces")
    deploy(qtbot, window)
    assert window.live.running
    asked: list[str] = []
    answers = iter([False, True])

    def ask(lab: str) -> bool:
        asked.append(lab)
        return next(answers)

    window.live_panel.ask_destroy = ask  # type: ignore[method-assign]
    qtbot.mouseClick(window.live_panel.destroy_button, Qt.MouseButton.LeftButton)
    assert asked == ["veth-namespaces"] and window.live.running and not window.live.busy
    assert helper.facts()["namespaces"] == ["left", "right"]
    qtbot.mouseClick(window.live_panel.destroy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
    assert asked == ["veth-namespaces"] * 2 and helper.facts()["namespaces"] == []
    window.close()


def test_an_error_leaves_the_live_panel_once_the_drawing_changes(qtbot, helper) -> None:
    helper.sandbox.run("ip", "netns", "add", "left")  # not nstopo's: apply is refused
    window = live_window(qtbot, helper, "veth-namespaces")
    deploy(qtbot, window)
    panel = window.live_panel
    assert not window.live.running
    assert panel.error.isVisibleTo(panel) and "left" in panel.error.text()
    # Rename the node in the inspector, as a user would: the error was about "left".
    window.scene.select(["left"])
    field = window.inspector.fields["name"]
    assert isinstance(field, QLineEdit)
    field.selectAll()
    qtbot.keyClicks(field, "west")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "west" in window.doc.topology, timeout=3000)
    assert not panel.error.isVisibleTo(panel) and panel.error.text() == ""
    deploy(qtbot, window)  # and now it deploys
    assert window.live.running and window.live.last_error is None
    window.live.destroy()
    qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
    helper.sandbox.run("ip", "netns", "del", "left")
    window.close()


def test_the_forwarding_database_shows_whole_macs(qtbot, helper) -> None:
    window = live_window(qtbot, helper, "bridge-fixed")
    deploy(qtbot, window)
    run = window.ping_panel.start("hub", "a")  # traffic: the bridge learns a's MAC
    qtbot.waitUntil(lambda: not window.ping_panel.runs[run].running, timeout=15000)
    menu = live_menu(window.live_control, window, "node", "br0")
    (entry,) = [a for a in menu.actions() if a.text() == "Forwarding database of br0…"]
    entry.trigger()
    dialog = next(d for d in window.findChildren(FdbDialog) if d.bridge == "br0")
    dialog.show()
    qtbot.waitUntil(lambda: bool(dialog.entries), timeout=5000)
    table = dialog.table
    metrics = table.fontMetrics()
    for row in range(table.rowCount()):
        mac = table.item(row, 0).text()
        assert table.columnWidth(0) >= metrics.horizontalAdvance(mac) + 4, mac  # not cut
    dialog.close()
    window.live.destroy()
    qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
    window.close()


def test_a_deleted_deployed_node_is_listed_as_to_be_removed_until_applied(
    qtbot, helper: RunningHelper
) -> None:
    """Issue 12: a deleted deployed node vanished from the canvas and said nothing."""
    window = live_window(qtbot, helper, "veth-namespaces")
    deploy(qtbot, window)
    panel = window.live_panel
    assert window.live.running and panel.pending.toPlainText() == ""
    window.scene.select(["right"])
    edit = next(a for a in window.menuBar().actions() if a.text().replace("&", "") == "Edit")
    (delete,) = [a for a in edit.menu().actions() if a.text().replace("&", "") == "Delete"]
    delete.trigger()
    assert "right" not in window.doc.topology
    qtbot.waitUntil(lambda: "ip netns del right" in panel.pending.toPlainText(), timeout=5000)
    lines = panel.pending.toPlainText().splitlines()
    assert lines[:3] == [
        "# deleted, Apply removes:",
        "#   node right",
        "#   link left:eth0 ↔ right:eth0",
    ], lines
    assert "ip netns del right" in lines[3:]
    deploy(qtbot, window)  # Apply
    qtbot.waitUntil(lambda: panel.pending.toPlainText() == "", timeout=10000)
    assert helper.facts()["namespaces"] == ["left"]
    window.live.destroy()
    qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
    window.close()
