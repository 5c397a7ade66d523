"""Drift is no dead end (issue 12, item 6): a link set down outside the app shows as
drift, Apply is offered, and the real Apply action puts the kernel back. A real
helper in a sandbox (root)."""

from __future__ import annotations

from helper_process import RunningHelper
from menus import menu_action
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.resources import EXAMPLES
from PySide6.QtCore import Qt
from sandbox import needs_root

pytestmark = needs_root


def test_a_link_set_down_by_hand_is_put_back_by_apply(qtbot, helper: RunningHelper) -> None:
    window = MainWindow(Document.open(EXAMPLES / "container-bridge.yaml"), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    panel = window.live_panel
    qtbot.waitUntil(panel.deploy_button.isEnabled, timeout=5000)
    qtbot.mouseClick(panel.deploy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.running and not window.live.busy, timeout=30000)
    qtbot.waitUntil(lambda: ("c1", "eth0") in window.live.links, timeout=10000)
    qtbot.waitUntil(lambda: not panel.deploy_button.isEnabled(), timeout=5000)
    assert window.live.drifts() == []

    helper.sandbox.run("ip", "-n", "c1", "link", "set", "eth0", "down")
    qtbot.waitUntil(lambda: window.live.drifts() != [], timeout=10000)
    assert window.live.drifts() == ["c1:eth0: admin down (document: up)"]
    qtbot.waitUntil(lambda: not panel.drift.isHidden(), timeout=5000)
    assert "c1:eth0: admin down" in panel.drift.text()
    qtbot.waitUntil(panel.deploy_button.isEnabled, timeout=10000)  # Apply is offered
    assert panel.deploy_button.text() == "Apply 2 change(s)"
    assert panel.pending.toPlainText().splitlines() == [
        "ip -n c1 link set dev eth0 up",
        "ip -n c1 route add default via 10.80.1.1",
    ]

    action = menu_action(window, "Live", "Deploy / Apply changes")
    assert action.isEnabled()
    action.trigger()
    qtbot.waitUntil(lambda: not window.live.busy, timeout=30000)
    qtbot.waitUntil(lambda: window.live.drifts() == [], timeout=10000)
    assert window.live.last_error is None
    assert "state UP" in helper.sandbox.run("ip", "-n", "c1", "link", "show", "eth0").stdout
    route = helper.sandbox.run("ip", "-n", "c1", "route").stdout
    assert "default via 10.80.1.1 dev eth0" in route
    qtbot.waitUntil(panel.drift.isHidden, timeout=5000)
    qtbot.waitUntil(lambda: not panel.deploy_button.isEnabled(), timeout=5000)
    assert panel.deploy_button.text() == "Apply"
    window.live.destroy()
    qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
    window.close()


LONE_BRIDGE = """nstopo: 1
name: lone-bridge
nodes:
  hub: {kind: netns, position: [0, 0]}
  br0: {kind: bridge, namespace: hub, position: [0, 160]}
"""


def test_a_bridge_changed_by_hand_shows_one_state_in_its_box_and_on_its_node(
    qtbot, helper: RunningHelper, tmp_path
) -> None:
    path = tmp_path / "lone-bridge.yaml"
    path.write_text(LONE_BRIDGE)  # no ports: the change is the bridge's event alone
    window = MainWindow(Document.open(path), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    panel = window.live_panel
    qtbot.waitUntil(panel.deploy_button.isEnabled, timeout=5000)
    qtbot.mouseClick(panel.deploy_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.running and not window.live.busy, timeout=30000)
    scene = window.view.scene()
    line = scene.line_keys("hub").index(("hub", "br0"))
    box, node = scene.nodes["hub"], scene.nodes["br0"]

    def shown() -> tuple[object, object]:
        mark = box.marks[line] if line < len(box.marks) else None
        return (
            mark.name() if mark else None,
            node.device_mark.name() if node.device_mark else None,
        )

    qtbot.waitUntil(lambda: shown()[1] is not None and shown()[0] == shown()[1], timeout=10000)
    before = shown()
    helper.sandbox.run("ip", "-n", "hub", "link", "set", "br0", "down")
    qtbot.waitUntil(lambda: shown()[1] != before[1], timeout=10000)
    qtbot.wait(300)  # every event of the change has arrived and been drawn
    assert shown()[0] == shown()[1], "br0's box line and its node disagree"
    window.live.destroy()
    qtbot.waitUntil(lambda: not window.live.running, timeout=20000)
    window.close()
