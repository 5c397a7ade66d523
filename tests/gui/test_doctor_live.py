"""The doctor in the editor (issue 17): the helper bar says what it found and shows the
fixes; a ping that got no answer shows the finding about its nodes. The cause is
planted in the sandbox (its own network namespace), never on the machine."""

from __future__ import annotations

from pathlib import Path

import pytest
from helper_process import RunningHelper
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from sandbox import needs_root
from test_live import deploy

pytestmark = needs_root

LAB = """\
nstopo: 1
name: docgui
nodes:
  host: {kind: host}
  br0: {kind: bridge, addresses: [10.66.0.1/24]}
  a: {kind: netns}
  b: {kind: netns}
links:
  - endpoints: [{node: a, interface: eth0, addresses: [10.66.0.2/24]}, "br0:p-a"]
  - endpoints: [{node: b, interface: eth0, addresses: [10.66.0.3/24]}, "br0:p-b"]
"""


def test_a_forward_drop_shows_in_the_helper_bar_and_beside_the_failed_ping(
    qtbot, helper: RunningHelper, tmp_path: Path
) -> None:
    bridged = helper.sandbox.run("cat", "/proc/sys/net/bridge/bridge-nf-call-iptables",
                                 check=False).stdout.strip() == "1"  # fmt: skip
    path = tmp_path / "docgui.yaml"
    path.write_text(LAB)
    window = MainWindow(Document.open(path), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    window.live_panel.ask_destroy = lambda lab: True  # type: ignore[method-assign]
    qtbot.addWidget(window)
    bar = window.helper_bar
    assert bar is not None
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    deploy(qtbot, window)
    helper.sandbox.run("nft", "add", "table", "ip", "filter")
    helper.sandbox.run("nft", "add chain ip filter FORWARD { type filter hook forward "
                       "priority 0; policy drop; }")  # fmt: skip
    bar.run_doctor()  # the bar's own timer would, within half a minute
    title = "the host's forward chain drops (ip filter FORWARD, policy drop)"
    qtbot.waitUntil(lambda: any(f["title"] == title for f in bar.findings), timeout=10000)
    assert "Doctor: " in bar.text.text()
    assert bar.doctor_button.isVisibleTo(bar)
    assert bar.doctor_button.text().startswith("Doctor: ")
    QTest.mouseClick(bar.doctor_button, Qt.MouseButton.LeftButton)
    dialog = bar.doctor_dialog
    assert dialog is not None and dialog.isVisible()
    shown = dialog.text.toPlainText()
    assert title in shown and 'nft insert rule ip filter FORWARD iifname "br0"' in shown
    assert "lab docgui: a, b, br0" in shown or not bridged
    dialog.close()
    if not bridged:  # without br_netfilter the bridge does not meet the drop
        window.close()
        pytest.skip("br_netfilter is off here: bridged pings never meet the forward chain")
    window.ping_panel.count.setValue(2)
    window.ping_panel.interval.setValue(200)
    run = window.ping_panel.runs[window.live_control.ping("a", "b")]
    qtbot.waitUntil(lambda: not run.running, timeout=15000)
    assert not run.rtts
    qtbot.waitUntil(lambda: run.diagnosis is not None, timeout=10000)
    assert run.diagnosis == title
    assert f"· doctor: {title}" in run.item.text()
    assert f"doctor: {title}" in window.ping_panel.text.toPlainText()
    assert 'nft insert rule ip filter FORWARD iifname "br0" oifname "br0" accept' in (
        window.ping_panel.text.toPlainText()
    )
    # A target typed as an address counts as the node that holds it.
    assert window.ping_panel._node_of("10.66.0.3") == "b"
    assert window.ping_panel._node_of("10.99.0.9") == "10.99.0.9"
    # The fix, as shown, makes the next ping answer and the finding go away.
    helper.sandbox.run("bash", "-c", 'nft insert rule ip filter FORWARD iifname "br0" '
                       'oifname "br0" accept')  # fmt: skip
    again = window.ping_panel.runs[window.live_control.ping("a", "b")]
    qtbot.waitUntil(lambda: not again.running, timeout=15000)
    assert again.rtts and again.diagnosis is None
    window.close()
