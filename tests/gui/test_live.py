"""Live mode against a real helper (root, sandboxed): deploy from the editor, watch the
kernel change under the drawing, live edits, reconnects (issue: live mode)."""

from __future__ import annotations

import json
import time

from helper_process import RunningHelper
from nstopo.gui.commands import SetLink
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.gui.theme import OPER_COLORS
from nstopo.model.types import replace
from nstopo.resources import EXAMPLES
from PySide6.QtGui import QColor
from sandbox import needs_root

pytestmark = needs_root
UP, DOWN = QColor(OPER_COLORS["UP"]), QColor(OPER_COLORS["DOWN"])


def live_window(qtbot, helper: RunningHelper, example: str) -> MainWindow:
    window = MainWindow(Document.open(EXAMPLES / f"{example}.yaml"), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    return window


def deploy(qtbot, window: MainWindow) -> None:
    panel = window.live_panel
    qtbot.waitUntil(panel.deploy_button.isEnabled, timeout=5000)
    panel.deploy_button.click()
    qtbot.waitUntil(lambda: window.live.running and not window.live.busy, timeout=30000)
    assert window.live.last_error is None


def link_of(window: MainWindow, node: str, interface: str) -> str:
    for lid, link in window.doc.topology.links():
        if any((ep.node, ep.interface) == (node, interface) for ep in link.endpoints):
            return lid
    raise AssertionError(f"no link {node}:{interface}")


def ends_colored(window: MainWindow, lid: str, colors: tuple[QColor, QColor]) -> bool:
    marks = window.scene.links[lid].end_marks
    return all(m is not None and m.color == c for m, c in zip(marks, colors, strict=True))


def ip_json(helper: RunningHelper, ns: str, *args: str) -> list[dict]:
    return json.loads(helper.sandbox.run("ip", "-j", "-n", ns, *args).stdout)


def devices(helper: RunningHelper, ns: str) -> set[tuple]:
    """Identity and settings of every device in a namespace (a re-created one differs)."""
    return {
        (d["ifindex"], d["ifname"], d.get("address"), d["mtu"], "UP" in d["flags"])
        for d in ip_json(helper, ns, "link", "show")
    }


def test_deploy_from_the_editor_builds_the_lab_and_shows_it_live(qtbot, helper) -> None:
    window = live_window(qtbot, helper, "bridge-fixed")
    steps: list[tuple[int, int, str]] = []
    window.live.progress.connect(lambda i, n, c: steps.append((i, n, c)))
    deploy(qtbot, window)
    facts = helper.facts()
    assert facts["namespaces"] == ["a", "hub"]
    assert facts["devices"]["hub/br0"]["kind"] == "bridge"
    assert facts["devices"]["hub/p0"]["master"] == "br0"
    assert "hub/br0/10.77.0.1/24" in facts["addresses"]
    # Progress came per step, in order, and named the ip command of each.
    assert [i for i, _, _ in steps] == list(range(steps[0][1]))
    assert steps[0][2].startswith("ip netns add")
    # Every end of the drawing turns green once the kernel reports it up.
    lid = link_of(window, "a", "eth0")
    qtbot.waitUntil(lambda: ends_colored(window, lid, (UP, UP)), timeout=5000)
    assert not any(m.drift for m in window.scene.links[lid].end_marks if m)
    assert window.scene.nodes["br0"].device_mark == UP
    assert "Lab “bridge-pitfall” is running and matches" in window.live_panel.status.text()
    assert not window.live_panel.deploy_button.isEnabled()  # nothing pending
    window.live_panel.destroy_button.click()
    qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
    assert helper.facts()["namespaces"] == []
    assert window.scene.links[lid].end_marks == (None, None)
    window.close()


def test_an_interface_set_down_outside_the_app_changes_the_drawing(qtbot, helper) -> None:
    window = live_window(qtbot, helper, "veth-namespaces")
    deploy(qtbot, window)
    lid = link_of(window, "left", "eth0")
    qtbot.waitUntil(lambda: ends_colored(window, lid, (UP, UP)), timeout=5000)
    helper.sandbox.run("ip", "-n", "left", "link", "set", "eth0", "down")
    done = time.monotonic()
    qtbot.waitUntil(lambda: window.scene.links[lid].end_marks[0].color == DOWN, timeout=3000)
    assert time.monotonic() - done < 1.0
    left_end = window.scene.links[lid].end_marks[0]
    assert left_end.drift  # the document says up
    assert "drift: admin down (document: up)" in window.scene.links[lid].toolTip()
    # Its peer is admin up without a carrier: not green.
    qtbot.waitUntil(lambda: window.scene.links[lid].end_marks[1].color != UP, timeout=3000)
    # An address added by hand shows up in the namespace box, marked as drift.
    helper.sandbox.run("ip", "-n", "right", "addr", "add", "10.10.0.99/24", "dev", "eth0")
    qtbot.waitUntil(lambda: "10.10.0.99/24" in " ".join(window.scene.nodes["right"].lines))
    assert window.scene.links[lid].end_marks[1].drift
    window.close()


def test_a_live_edit_is_pending_until_applied_and_changes_only_that_object(qtbot, helper) -> None:
    window = live_window(qtbot, helper, "veth-namespaces")
    deploy(qtbot, window)
    lid = link_of(window, "left", "eth0")
    before = {ns: devices(helper, ns) for ns in ("left", "right")}
    link = window.doc.topology.link(lid)
    ends = list(link.endpoints)
    index = next(i for i, ep in enumerate(ends) if ep.node == "left")
    ends[index] = replace(ends[index], addresses=("10.10.0.50/24", "fd00:10::1/64"))
    window.doc.push(SetLink(window.doc, lid, replace(link, endpoints=tuple(ends))))
    qtbot.waitUntil(lambda: len(window.live.pending_steps) == 2, timeout=5000)
    assert [s["op"] for s in window.live.pending_steps] == ["addr.del", "addr.add"]
    assert window.scene.links[lid].pending
    assert "ip -n left addr add 10.10.0.50/24 dev eth0" in window.live_panel.pending.toPlainText()
    assert window.live_panel.deploy_button.text() == "Apply 2 change(s)"
    window.live_panel.deploy_button.click()
    qtbot.waitUntil(lambda: not window.live.busy and not window.live.pending_steps, timeout=10000)
    assert not window.scene.links[lid].pending
    addresses = {
        a["local"] for link in ip_json(helper, "left", "addr", "show") for a in link["addr_info"]
    }
    assert "10.10.0.50" in addresses and "10.10.0.1" not in addresses
    after = {ns: devices(helper, ns) for ns in ("left", "right")}
    assert after == before  # same devices, same indexes, same flags: only the address moved
    # Undo, then Apply: the kernel returns to the first address.
    window.doc.undo.undo()
    qtbot.waitUntil(lambda: len(window.live.pending_steps) == 2, timeout=5000)
    window.live_panel.deploy_button.click()
    qtbot.waitUntil(lambda: not window.live.busy and not window.live.pending_steps, timeout=10000)
    addresses = {
        a["local"] for link in ip_json(helper, "left", "addr", "show") for a in link["addr_info"]
    }
    assert "10.10.0.1" in addresses and "10.10.0.50" not in addresses
    window.close()


def test_an_apply_error_is_shown_next_to_the_item_and_nothing_changes(qtbot, helper) -> None:
    window = live_window(qtbot, helper, "veth-namespaces")
    helper.sandbox.run("ip", "netns", "add", "right")  # someone else's namespace
    window.live_panel.deploy_button.click()
    qtbot.waitUntil(lambda: window.live.last_error is not None, timeout=10000)
    message, _ = window.live.last_error
    assert 'namespace "right" already exists' in message
    note = window.overlay.note
    assert note is not None and 'namespace "right"' in note.text()
    right = window.scene.nodes["right"].sceneBoundingRect()
    assert abs(note.pos().x() - right.right()) < 20  # placed beside the node
    assert window.live_panel.error.text() == message
    assert helper.facts()["namespaces"] == ["right"]  # nothing of the lab was made
    assert not window.live.running
    window.close()


def test_after_a_helper_restart_the_editor_reconnects_and_shows_the_same_state(
    qtbot, helper
) -> None:
    window = live_window(qtbot, helper, "veth-namespaces")
    deploy(qtbot, window)
    lid = link_of(window, "left", "eth0")
    qtbot.waitUntil(lambda: ends_colored(window, lid, (UP, UP)), timeout=5000)
    helper.stop()
    qtbot.waitUntil(lambda: not window.helper_bar.connected, timeout=5000)
    assert window.scene.links[lid].end_marks == (None, None)  # unknown while away
    assert "no helper connected" in window.live_panel.status.text()
    helper.sandbox.run("ip", "-n", "left", "link", "set", "eth0", "down")  # meanwhile
    helper.start()
    qtbot.waitUntil(lambda: window.helper_bar.connected and window.live.running, timeout=10000)
    left_end = lambda: window.scene.links[lid].end_marks[0]  # noqa: E731
    qtbot.waitUntil(lambda: left_end() is not None and left_end().color == DOWN, timeout=5000)
    assert left_end().drift
    assert window.live.deployed == window.doc.topology
    assert not window.live.pending_steps
    window.close()
