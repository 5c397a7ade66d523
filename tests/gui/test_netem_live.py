"""Impairments on a running lab from the editor (root, sandboxed, real helper): a delay
typed into the inspector is a pending qdisc step, Live → Deploy / Apply changes (the
real QAction) puts it on the kernel, and the link shows it."""

from __future__ import annotations

import pytest
from menus import menu_action
from netem_probe import NO_NETEM, has_netem
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.resources import EXAMPLES
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from sandbox import needs_root

pytestmark = needs_root


def deployed(qtbot, helper) -> tuple[MainWindow, str]:
    window = MainWindow(Document.open(EXAMPLES / "veth-namespaces.yaml"), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    window.live_panel.ask_destroy = lambda lab: True  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    apply_changes(qtbot, window)
    assert window.live.last_error is None
    (lid,) = window.doc.topology.link_ids()
    return window, lid


def apply_changes(qtbot, window: MainWindow) -> None:
    action = menu_action(window, "Live", "Deploy / Apply changes")
    qtbot.waitUntil(action.isEnabled, timeout=5000)
    action.trigger()
    qtbot.waitUntil(lambda: window.live.running and not window.live.busy, timeout=30000)


def type_delay(qtbot, window: MainWindow, lid: str, text: str) -> None:
    window.scene.select([], [lid])
    for tag in ("a", "b"):
        edit = window.inspector.findChild(QLineEdit, f"netem.{tag}.delay")
        qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(edit, text)
        qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_a_delay_set_in_the_inspector_is_applied_to_the_kernels_qdisc(qtbot, helper) -> None:
    if not has_netem(helper.sandbox):
        pytest.skip(NO_NETEM)
    window, lid = deployed(qtbot, helper)
    type_delay(qtbot, window, lid, "30ms")
    qtbot.waitUntil(lambda: len(window.live.pending_steps) == 2, timeout=5000)
    assert {s["op"] for s in window.live.pending_steps} == {"qdisc.netem"}
    pending = window.live_panel.pending.toPlainText()
    assert "tc -n left qdisc replace dev eth0 root netem delay 30ms" in pending
    apply_changes(qtbot, window)
    assert window.live.last_error is None and not window.live.pending_steps
    assert window.scene.links[lid].impairment == "30 ms"
    qtbot.waitUntil(lambda: "netem 30 ms" in window.scene.links[lid].toolTip(), timeout=5000)
    for ns in ("left", "right"):
        shown = helper.sandbox.run("tc", "-n", ns, "qdisc", "show", "dev", "eth0").stdout
        assert "netem" in shown and "delay 30ms" in shown, shown
    window.close()


def test_without_netem_in_the_kernel_the_apply_error_is_shown_and_nothing_changes(
    qtbot, helper
) -> None:
    if has_netem(helper.sandbox):
        pytest.skip("this kernel has netem: the test above runs instead")
    window, lid = deployed(qtbot, helper)
    type_delay(qtbot, window, lid, "30ms")
    qtbot.waitUntil(lambda: len(window.live.pending_steps) == 2, timeout=5000)
    assert "tc -n left qdisc replace dev eth0 root netem delay 30ms" in (
        window.live_panel.pending.toPlainText()
    )
    menu_action(window, "Live", "Deploy / Apply changes").trigger()
    qtbot.waitUntil(lambda: window.live.last_error is not None, timeout=10000)
    message, _ = window.live.last_error
    assert "this kernel has no netem qdisc" in message
    assert window.scene.links[lid].impairment == "30 ms"  # still the document's, pending
    assert window.scene.links[lid].pending
    shown = helper.sandbox.run("tc", "-n", "left", "qdisc", "show", "dev", "eth0").stdout
    assert "netem" not in shown
    window.close()


def test_a_root_qdisc_set_by_hand_is_drift_on_the_link(qtbot, helper) -> None:
    """Runs on any kernel: pfifo stands in for a hand-made change of the qdisc."""
    window, lid = deployed(qtbot, helper)
    helper.sandbox.run("tc", "-n", "left", "qdisc", "add", "dev", "eth0", "root", "pfifo")
    qtbot.waitUntil(lambda: bool(window.live.drifts()), timeout=5000)
    assert window.live.drifts() == [
        "left:eth0: root qdisc pfifo set outside nstopo (document: netem none)"
    ]
    end = next(i for i, ep in enumerate(window.doc.topology.link(lid).endpoints)
               if ep.node == "left")  # fmt: skip
    qtbot.waitUntil(lambda: window.scene.links[lid].end_marks[end].drift, timeout=5000)
    assert "drift: root qdisc pfifo set outside nstopo" in window.scene.links[lid].toolTip()
    helper.sandbox.run("tc", "-n", "left", "qdisc", "del", "dev", "eth0", "root")
    qtbot.waitUntil(lambda: not window.live.drifts(), timeout=5000)
    window.close()
