"""The ping panel says what went wrong, plots milliseconds, and repeats a ping from a
chosen source interface (issue 12, item 9). The live ones run a real helper (root)."""

from __future__ import annotations

from helper_process import RunningHelper
from menus import trigger
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.resources import EXAMPLES
from PySide6.QtCore import Qt
from sandbox import needs_root


def open_window(qtbot, example: str, socket: str) -> MainWindow:
    window = MainWindow(Document.open(EXAMPLES / f"{example}.yaml"), socket)
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    return window


def click_node(qtbot, window: MainWindow, name: str) -> None:
    view = window.view
    point = view.mapFromScene(window.scene.nodes[name].sceneBoundingRect().center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def ping_with_the_tool(qtbot, window: MainWindow, source: str, target: str):
    """P, a click on the source node, a click on the target node."""
    before = set(window.ping_panel.runs)
    trigger(window, "Live", "Ping tool")
    assert window.tools.ping.isChecked()
    click_node(qtbot, window, source)
    click_node(qtbot, window, target)
    (tag,) = set(window.ping_panel.runs) - before
    return window.ping_panel.runs[tag]


def test_a_ping_without_a_helper_says_so_instead_of_zero_replies(qtbot, tmp_path) -> None:
    window = open_window(qtbot, "veth-namespaces", str(tmp_path / "none.sock"))
    run = ping_with_the_tool(qtbot, window, "left", "right")
    assert not run.running
    title = run.item.text()
    assert title == "left → right: no helper connected (deploy “veth-namespaces” first)"
    assert "0/0" not in title
    assert window.ping_panel.text.toPlainText().startswith("ping: no helper connected")


def test_the_plot_axis_is_milliseconds_without_a_prefix(qtbot, tmp_path) -> None:
    window = open_window(qtbot, "veth-namespaces", str(tmp_path / "none.sock"))
    axis = window.ping_panel.plot.getAxis("left")
    assert axis.labelText == "RTT (ms)" and not axis.labelUnits
    axis.setRange(0.2, 0.9)  # sub-millisecond times, as on a veth
    assert axis.autoSIPrefixScale == 1.0  # the values are shown as they are
    assert "mms" not in axis.labelString() and "(ms)" in axis.labelString()


@needs_root
def test_no_running_lab_and_an_unreachable_network_are_said(qtbot, helper: RunningHelper) -> None:
    window = open_window(qtbot, "loopback", str(helper.socket))
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    qtbot.waitUntil(lambda: window.live_panel.deploy_button.isEnabled(), timeout=5000)
    window.live_control.ask_address = lambda source: "127.0.0.1"  # type: ignore[method-assign]
    view = window.view
    trigger(window, "Live", "Ping tool")
    click_node(qtbot, window, "ns1")
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(0, 600))
    (early,) = window.ping_panel.runs.values()
    assert early.item.text() == "ns1 → 127.0.0.1: no running lab (deploy “loopback” first)"
    window.live_panel.deploy_button.click()
    qtbot.waitUntil(lambda: window.live.running and not window.live.busy, timeout=30000)
    window.ping_panel.count.setValue(2)
    window.ping_panel.interval.setValue(100)
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Escape)
    trigger(window, "Live", "Ping tool")
    click_node(qtbot, window, "ns1")
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(0, 600))
    run = list(window.ping_panel.runs.values())[-1]
    qtbot.waitUntil(lambda: not run.running, timeout=10000)
    # lo is down in this example: the kernel's word, not "0/0 replies, 0% loss".
    assert run.item.text() == "ns1 → 127.0.0.1: connect: Network is unreachable"
    window.live.destroy()
    qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
    window.close()


@needs_root
def test_ping_again_from_the_enslaved_port_shows_the_pitfall(qtbot, helper) -> None:
    window = open_window(qtbot, "bridge-pitfall", str(helper.socket))
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    qtbot.waitUntil(lambda: window.live_panel.deploy_button.isEnabled(), timeout=5000)
    window.live_panel.deploy_button.click()
    qtbot.waitUntil(lambda: window.live.running and not window.live.busy, timeout=30000)
    panel = window.ping_panel
    panel.count.setValue(2)
    panel.interval.setValue(200)
    first = ping_with_the_tool(qtbot, window, "hub", "a")
    qtbot.waitUntil(lambda: not first.running, timeout=10000)
    # The source node's interfaces, to repeat the ping from one of them (ping -I).
    choices = [panel.interface.itemText(i) for i in range(panel.interface.count())]
    assert choices == ["any interface", "br0", "p0"]
    panel.interface.setCurrentText("p0")
    qtbot.mouseClick(panel.again_button, Qt.MouseButton.LeftButton)
    again = list(panel.runs.values())[-1]
    assert (again.source, again.target, again.interface) == ("hub", "a", "p0")
    qtbot.waitUntil(lambda: not again.running, timeout=10000)
    # From the enslaved port nothing comes back: the seed's pitfall.
    assert again.item.text().startswith("hub → a via p0: 0/2 replies, 100% loss")
    assert not again.rtts
    # Without -I the kernel also picks p0 (the address is there): same loss, but the
    # plot holds exactly what arrived, in milliseconds as measured.
    _, ys = first.curve.getData()
    assert list(ys if ys is not None else []) == first.rtts
    window.live.destroy()
    qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
    window.close()
