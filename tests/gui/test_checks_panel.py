"""The Checks dock (issue 18, item 4): Run all against a real sandboxed helper (one check
passes, one fails, each shows its evidence when clicked, its nodes ringed on the
canvas), and the check editor (a ping check from the ping tool's two clicks, its
expectation and name edited, each undoable and saved into the file's checks:)."""

from __future__ import annotations

import json
from pathlib import Path

from helper_process import RunningHelper
from menus import trigger
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.model.yamlfile import load
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem
from sandbox import needs_root

LAB = """\
nstopo: 1
name: {name}
nodes:
  a: {{kind: netns, position: [100, 100]}}
  b: {{kind: netns, position: [400, 100]}}
links:
  - endpoints:
      - {{node: a, interface: eth0, addresses: [10.61.0.1/24]}}
      - {{node: b, interface: eth0, addresses: [10.61.0.2/24]}}
"""
CHECKS = """\
checks:
  - name: a reaches b
    ping: {from: a, to: b}
  - name: b cannot reach a   # wrong on purpose: it can
    ping: {from: b, to: a}
    expect: fail
    timeout: 1
"""


def window_on(qtbot, path: Path, socket: str) -> MainWindow:
    window = MainWindow(Document.open(path), socket)
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    window.live_panel.ask_destroy = lambda lab: True  # type: ignore[method-assign]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def click_node(qtbot, window: MainWindow, name: str) -> None:
    view = window.view
    point = view.mapFromScene(window.scene.nodes[name].sceneBoundingRect().center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def click_row(qtbot, tree: QTreeWidget, item: QTreeWidgetItem) -> None:
    tree.scrollToItem(item)
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center()
    )


def row(window: MainWindow, name: str) -> QTreeWidgetItem:
    item = window.checks_panel.item_of(f"check:{name}")
    assert item is not None, f"no row for {name}"
    return item


@needs_root
def test_run_all_shows_green_and_red_with_the_evidence(
    qtbot, helper: RunningHelper, tmp_path: Path
) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text(LAB.format(name="checks-gui") + CHECKS)
    window = window_on(qtbot, path, str(helper.socket))
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    panel = window.checks_panel
    assert [panel.state_of(c.name) for c in window.doc.checks] == ["idle", "idle"]
    # Before a deploy, Run all says what to do instead of failing every check.
    trigger(window, "Live", "Run all checks")
    assert "not running" in panel.status.text()
    trigger(window, "Live", "Deploy / Apply changes")
    qtbot.waitUntil(lambda: window.live.running and not window.live.busy, timeout=30000)
    try:
        trigger(window, "Live", "Run all checks")
        assert window._docks["Checks"].isVisible()
        # The UI thread is free while the checks run: a running row is blue meanwhile.
        qtbot.waitUntil(lambda: panel.state_of("a reaches b") != "idle", timeout=5000)
        qtbot.waitUntil(lambda: not panel.runner.busy, timeout=60000)
        qtbot.waitUntil(lambda: "1 passed, 1 failed" in panel.status.text(), timeout=5000)
        assert panel.state_of("a reaches b") == "passed"
        assert panel.state_of("b cannot reach a") == "failed"
        good, bad = row(window, "a reaches b"), row(window, "b cannot reach a")
        assert good.text(1).startswith("passed") and bad.text(1).startswith("FAILED")
        assert good.icon(0).pixmap(14, 14).toImage().pixelColor(7, 7).name() == "#2e9d4f"
        assert bad.icon(0).pixmap(14, 14).toImage().pixelColor(7, 7).name() == "#d64541"
        # A click on the red row shows why: the ping's own verdict, and rings b and a.
        click_row(qtbot, panel.tree, bad)
        evidence = panel.evidence.toPlainText()
        assert "FAILED" in evidence and "received" in evidence and "0% loss" in evidence
        assert "ping from b to a; expect fail" in evidence
        assert sorted(panel.ringed()) == ["a", "b"]
        click_row(qtbot, panel.tree, good)
        assert "PASSED" in panel.evidence.toPlainText()
        # Run one: the selected row alone runs again (a double-click does the same).
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not panel.runner.busy, timeout=30000)
        qtbot.waitUntil(lambda: panel.state_of("a reaches b") == "passed", timeout=5000)
    finally:
        window.live.destroy()
        qtbot.waitUntil(lambda: not window.live.running, timeout=20000)


def test_a_ping_check_from_the_ping_tools_two_clicks_is_saved(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text(LAB.format(name="checks-edit"))
    window = window_on(qtbot, path, str(tmp_path / "none.sock"))
    panel = window.checks_panel
    trigger(window, "Live", "Add ping check")
    assert window.tools.ping.isChecked()
    click_node(qtbot, window, "a")
    click_node(qtbot, window, "b")
    assert not window.tools.ping.isChecked()  # one check per arming: selecting again
    (check,) = window.doc.checks
    assert (check.name, check.ping.source, check.ping.to) == ("a reaches b", "a", "b")
    assert panel.current_key() == "check:a reaches b" and sorted(panel.ringed()) == ["a", "b"]
    # Its expectation, chosen in the editor's box with the keyboard.
    box = panel.expect_box
    box.setFocus()
    assert [box.itemText(i) for i in range(box.count())] == ["fail", "reply"]
    qtbot.keyClick(box, Qt.Key.Key_Up)  # reply -> fail
    assert window.doc.checks[0].expect == "fail"
    # Its name, typed.
    panel.name_edit.setFocus()
    panel.name_edit.selectAll()
    qtbot.keyClicks(panel.name_edit, "a is cut off from b")
    qtbot.keyClick(panel.name_edit, Qt.Key.Key_Return)
    assert window.doc.checks[0].name == "a is cut off from b"
    assert window.doc.dirty
    trigger(window, "File", "Save")
    saved = load(path)
    (written,) = saved.checks
    assert (written.name, written.expect) == ("a is cut off from b", "fail")
    assert "  - name: a is cut off from b\n    ping: {from: a, to: b}\n" in path.read_text()
    # Each edit is one undo step: three undos and the check is gone again.
    for _ in range(3):
        trigger(window, "Edit", "Undo")
    assert window.doc.checks == () and panel.tree.topLevelItemCount() == 0
    trigger(window, "Edit", "Redo")
    assert window.doc.checks[0].name == "a reaches b"
    # Remove, from the panel.
    click_row(qtbot, panel.tree, row(window, "a reaches b"))
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert window.doc.checks == ()
    trigger(window, "File", "Save")
    assert "\nchecks:" not in path.read_text()
    # A check whose node is deleted says why it cannot run.
    trigger(window, "Edit", "Undo")
    window.scene.select(["a"])
    trigger(window, "Edit", "Delete")
    qtbot.waitUntil(lambda: "cannot run" in row(window, "a reaches b").text(1), timeout=3000)
    assert 'names node "a"' in row(window, "a reaches b").text(1)


def test_a_second_click_on_the_canvas_asks_the_address(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text(LAB.format(name="checks-addr"))
    window = window_on(qtbot, path, str(tmp_path / "none.sock"))
    window.checks_panel.ask_address = lambda source: "10.61.0.2"  # type: ignore[method-assign]
    qtbot.mouseClick(window.checks_panel.add_button, Qt.MouseButton.LeftButton)
    click_node(qtbot, window, "a")
    view = window.view
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(250, 600))
    (check,) = window.doc.checks
    assert (check.ping.source, check.ping.to) == ("a", "10.61.0.2")


SCENARIO = """\
checks:
  - name: a reaches b
    ping: {from: a, to: b}
  - name: nobody answers at .99
    ping: {from: a, to: 10.61.0.99}
    timeout: 60
scenarios:
  - name: the veth flaps
    steps:
      - {link: "a:eth0", state: down}
      - check: {name: a cannot reach b, ping: {from: a, to: b}, expect: fail, timeout: 3}
      - {link: "a:eth0", state: up}
      - check: a reaches b
"""


@needs_root
def test_a_scenario_runs_step_by_step(qtbot, helper: RunningHelper, tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text(LAB.format(name="checks-flap") + SCENARIO)
    window = window_on(qtbot, path, str(helper.socket))
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    panel = window.checks_panel
    trigger(window, "Live", "Deploy / Apply changes")
    qtbot.waitUntil(lambda: window.live.running and not window.live.busy, timeout=30000)
    try:
        scenario = panel.item_of("scenario:the veth flaps")
        assert scenario is not None and scenario.text(0) == "scenario: the veth flaps"
        click_row(qtbot, panel.tree, scenario)
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not panel.runner.busy, timeout=60000)
        qtbot.waitUntil(lambda: panel.state_of("scenario:the veth flaps") == "passed", timeout=5000)
        steps = [scenario.child(i).text(0) for i in range(scenario.childCount())]
        assert steps == [
            "  -- link a:eth0 set down",
            "PASS  a cannot reach b",
            "  -- link a:eth0 set up",
            "PASS  a reaches b",
        ]
        assert "link a:eth0 set down" in panel.evidence.toPlainText()
        assert sorted(panel.ringed()) == ["a", "b"]
        assert panel.state_of("a reaches b") == "idle"  # only the scenario ran
        # Stop ends a check that would retry for a minute, at once.
        click_row(qtbot, panel.tree, row(window, "nobody answers at .99"))
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.stop_button.isEnabled(), timeout=5000)
        qtbot.wait(500)
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not panel.runner.busy, timeout=5000)
        qtbot.waitUntil(lambda: "stopped" in panel.status.text(), timeout=5000)
        assert panel.state_of("nobody answers at .99") == "idle"
        # Stopped right after it set the link down, the scenario still puts the lab back.
        click_row(qtbot, panel.tree, scenario)
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: scenario.childCount() >= 1, timeout=10000)
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not panel.runner.busy, timeout=10000)
        assert panel.run_all_button.isEnabled() and not panel.stop_button.isEnabled()
        link = helper.sandbox.run("ip", "-j", "-n", "a", "link", "show", "eth0").stdout
        assert "UP" in json.loads(link)[0]["flags"], "the stopped scenario left a:eth0 down"
    finally:
        window.live.destroy()
        qtbot.waitUntil(lambda: not window.live.running, timeout=20000)


def test_a_node_renamed_in_the_inspector_keeps_its_checks(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text(LAB.format(name="checks-rename") + CHECKS)
    window = window_on(qtbot, path, str(tmp_path / "none.sock"))
    click_node(qtbot, window, "a")
    field = window.inspector.fields["name"]
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, "alpha")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert "alpha" in window.doc.topology
    first, second = window.doc.checks
    assert first.ping.source == "alpha" and second.ping.to == "alpha"
    assert "cannot run" not in row(window, "a reaches b").text(1)
    trigger(window, "Edit", "Undo")
    assert window.doc.checks[0].ping.source == "a"
