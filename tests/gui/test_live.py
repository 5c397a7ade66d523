"""Live mode against a real helper (root, sandboxed): deploy from the editor, watch the
kernel change under the drawing, live edits, reconnects (issue: live mode)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import dpkt
from helper_process import RunningHelper
from nstopo.gui.commands import AddLink, SetLink
from nstopo.gui.document import Document
from nstopo.gui.fdbdialog import FdbDialog
from nstopo.gui.livemenu import live_menu
from nstopo.gui.mainwindow import MainWindow
from nstopo.gui.theme import OPER_COLORS
from nstopo.model.schema import to_document
from nstopo.model.types import Endpoint, Link, replace
from nstopo.model.yamlfile import load
from nstopo.resources import EXAMPLES
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QContextMenuEvent
from PySide6.QtWidgets import QApplication
from sandbox import needs_root

pytestmark = needs_root
UP, DOWN = QColor(OPER_COLORS["UP"]), QColor(OPER_COLORS["DOWN"])


def live_window(qtbot, helper: RunningHelper, example: str) -> MainWindow:
    window = MainWindow(Document.open(EXAMPLES / f"{example}.yaml"), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    window.live_panel.ask_destroy = lambda lab: True  # type: ignore[method-assign]
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    return window


def context_menu(window: MainWindow, node: str) -> dict[str, QAction]:
    """Right-click on the node in the canvas: the items of the menu that pops up."""
    view = window.view
    at = view.mapFromScene(window.scene.nodes[node].sceneBoundingRect().center())
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, view.viewport().mapToGlobal(at))
    QApplication.sendEvent(view.viewport(), event)
    menu = window.live_control.menu
    assert menu is not None and menu.isVisible()
    menu.close()
    return {action.text(): action for action in menu.actions() if action.text()}


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


def deployed_pair(qtbot, helper: RunningHelper) -> tuple[MainWindow, str]:
    """The two-namespace example deployed from the editor, its veth seen up."""
    window = live_window(qtbot, helper, "veth-namespaces")
    deploy(qtbot, window)
    lid = link_of(window, "left", "eth0")
    qtbot.waitUntil(lambda: ends_colored(window, lid, (UP, UP)), timeout=5000)
    return window, lid


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
    window, lid = deployed_pair(qtbot, helper)
    helper.sandbox.run("ip", "-n", "left", "link", "set", "eth0", "down")
    done = time.monotonic()
    qtbot.waitUntil(lambda: window.scene.links[lid].end_marks[0].color == DOWN, timeout=3000)
    assert time.monotonic() - done < 1.0
    left_end = window.scene.links[lid].end_marks[0]
    assert left_end.drift  # the document says up
    assert "drift: admin down (document: up)" in window.scene.links[lid].toolTip()
    panel = window.live_panel
    qtbot.waitUntil(lambda: "left:eth0: admin down (document: up)" in panel.drift.text())
    assert "the kernel differs" in panel.status.text()
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
    # A person clicks Deploy once it can be clicked (the editor first asks what runs).
    qtbot.waitUntil(window.live_panel.deploy_button.isEnabled, timeout=5000)
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
    window, lid = deployed_pair(qtbot, helper)
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
    # Nothing was edited; what Apply offers is the repair of the drift (issue 12).
    qtbot.waitUntil(lambda: bool(window.live.pending_steps), timeout=5000)
    repair = [step["command"] for step in window.live.pending_steps]
    assert "ip -n left link set dev eth0 up" in repair
    assert all(" left " in command for command in repair)
    window.close()


def test_pings_from_the_canvas_stream_into_the_ping_panel(qtbot, helper) -> None:
    window = live_window(qtbot, helper, "veth-namespaces")
    window.show()
    deploy(qtbot, window)
    panel = window.ping_panel
    panel.count.setValue(3)
    panel.interval.setValue(100)
    # The ping tool: click the source node, then the target node.
    window.tools.ping.trigger()
    view = window.view
    for name in ("left", "right"):
        point = view.mapFromScene(window.scene.nodes[name].pos())
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert len(panel.runs) == 1
    first = next(iter(panel.runs.values()))
    # Source, then the empty canvas: the address is asked for.
    window.live_control.ask_address = lambda source: "10.10.0.2"  # type: ignore[method-assign]
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.mapFromScene(window.scene.nodes["left"].pos()))  # fmt: skip
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(0, 500))
    by_address = list(panel.runs.values())[-1]
    assert (by_address.source, by_address.target) == ("left", "10.10.0.2")
    second = panel.runs[window.live_control.ping("right", "left")]  # two at once
    qtbot.waitUntil(
        lambda: not any(run.running for run in (first, second, by_address)), timeout=10000
    )
    assert len(by_address.rtts) == 3
    assert (first.source, first.target) == ("left", "right")
    assert len(first.rtts) == 3 and len(second.rtts) == 3
    assert first.lines[0].startswith("PING right (10.10.0.2) from left")
    assert sum("bytes from 10.10.0.2: icmp_seq=" in line for line in first.lines) == 3
    assert sum("bytes from 10.10.0.1: icmp_seq=" in line for line in second.lines) == 3
    assert "3 packets transmitted, 3 received, 0% packet loss" in "\n".join(first.lines)
    xs, ys = first.curve.getData()
    assert list(xs) == [1, 2, 3] and all(y > 0 for y in ys)
    assert "3/3 replies, 0% loss (done)" in first.item.text()
    window.close()


def test_a_ping_until_stopped_ends_when_stopped(qtbot, helper) -> None:
    window = live_window(qtbot, helper, "veth-namespaces")
    deploy(qtbot, window)
    panel = window.ping_panel
    panel.count.setValue(0)  # until stopped
    panel.interval.setValue(100)
    run = panel.runs[window.live_control.ping("left", "10.10.0.2")]
    qtbot.waitUntil(lambda: len(run.rtts) >= 3, timeout=5000)
    panel.stop_selected()
    qtbot.waitUntil(lambda: not run.running, timeout=5000)
    assert 3 <= len(run.rtts) < 30
    assert any("packets transmitted" in line for line in run.lines)
    window.close()


def test_the_bridge_experiment_captured_and_animated(qtbot, helper, tmp_path) -> None:
    window = live_window(qtbot, helper, "bridge-pitfall")
    deploy(qtbot, window)
    capture = window.capture_panel
    capture.filter.setText("arp")
    # A right-click on br0 in the canvas, and the menu's items (QAction.triggered's
    # `checked` once reached the handler as the node: "Cannot capture on False:p0").
    context_menu(window, "br0")["Capture on br0:p0"].trigger()
    context_menu(window, "br0")["Capture on br0"].trigger()  # the bridge device itself
    qtbot.waitUntil(lambda: len(capture.active) == 2, timeout=5000)
    window.ping_panel.count.setValue(2)
    window.ping_panel.interval.setValue(200)
    run = window.ping_panel.runs[window.live_control.ping("hub", "a")]
    qtbot.waitUntil(lambda: not run.running, timeout=10000)
    assert "100% packet loss" in "\n".join(run.lines)  # the pitfall
    qtbot.waitUntil(lambda: len(capture.model.packets) >= 3, timeout=5000)
    rows = [(p.where, p.protocol, p.summary) for p in capture.model.packets]
    on_port = [s for where, _, s in rows if where == "br0:p0"]
    on_bridge = [s for where, _, s in rows if where == "br0"]
    assert any("Request who-has 10.77.0.2" in s for s in on_port), rows
    assert any("Reply 10.77.0.2 is-at" in s for s in on_port), rows
    assert on_bridge and all("Reply" in s for s in on_bridge), rows
    assert {p for _, p, _ in rows} == {"arp"}
    capture.show_only.setText("reply")  # the display filter: only the replies listed
    assert capture.shown.rowCount() == sum("Reply" in s for _, _, s in rows) < len(rows)
    capture.show_only.clear()
    assert capture.shown.rowCount() == len(capture.model.packets)
    # The animation: the request leaves p0 toward a, the reply comes back to p0.
    lid = link_of(window, "a", "eth0")
    p0_end = [ep.node for ep in window.doc.topology.link(lid).endpoints].index("br0")
    along = [x for x in window.animator.launches if x.link_id == lid]
    requests = [x for x in along if "Request" in x.summary]
    replies = [x for x in along if "Reply" in x.summary]
    assert requests and all(x.from_end == p0_end for x in requests)
    assert replies and all(x.from_end == 1 - p0_end for x in replies)
    assert any(x.node == "br0" and "Reply" in x.summary for x in window.animator.launches)
    # Pause holds new packets back; the pcap has every one of them.
    capture.pause_button.click()
    shown = len(capture.model.packets)
    window.ping_panel.count.setValue(1)
    again = window.ping_panel.runs[window.live_control.ping("hub", "a")]
    qtbot.waitUntil(lambda: not again.running and bool(capture._held), timeout=10000)
    assert len(capture.model.packets) == shown
    saved = capture.save_pcap(tmp_path / "arp.pcap")
    assert saved == shown + len(capture._held)
    with open(tmp_path / "arp.pcap", "rb") as f:
        assert sum(1 for _ in dpkt.pcap.Reader(f)) == saved
    capture.pause_button.click()
    assert len(capture.model.packets) == saved
    capture.stop_all()
    qtbot.waitUntil(lambda: not capture.active, timeout=5000)
    window.close()


def test_rates_and_the_forwarding_database_on_demand(qtbot, helper) -> None:
    window = live_window(qtbot, helper, "bridge-fixed")
    before = {
        a.text(): a.isEnabled()
        for a in live_menu(window.live_control, window, "node", "br0").actions()
    }
    assert before["Forwarding database of br0… (deploy the lab first)"] is False
    deploy(qtbot, window)
    window.ping_panel.count.setValue(3)
    window.ping_panel.interval.setValue(200)
    run = window.ping_panel.runs[window.live_control.ping("a", "hub")]
    qtbot.waitUntil(lambda: not run.running, timeout=10000)
    assert len(run.rtts) == 3
    rates = window.rates_panel
    window.scene.select(["br0"])  # selecting shows the selection's rates
    assert rates.choice.currentText() == "br0"
    context_menu(window, "br0")["Rates of br0:p0"].trigger()
    assert rates.choice.currentText() == "br0:p0"
    window.live_control.show_rates(("a", "eth0"))
    assert rates.choice.currentText() == "a:eth0"
    qtbot.waitUntil(lambda: len(rates.history.get(("a", "eth0"), ())) >= 2, timeout=6000)
    assert any(rx > 0 or tx > 0 for _, rx, tx in rates.history[("a", "eth0")])
    assert rates.now.text().startswith("rx ")
    a_mac = helper.facts()["devices"]["a/eth0"]["mac"]
    menu = {
        a.text(): a
        for a in live_menu(window.live_control, window, "node", "br0").actions()
        if a.text()
    }
    assert {"Ping from br0…", "Capture on br0", "Capture on br0:p0", "Rates of br0:p0"} <= set(menu)
    menu["Forwarding database of br0…"].trigger()  # the bridge's own context menu
    dialog = next(d for d in window.findChildren(FdbDialog) if d.bridge == "br0")
    qtbot.waitUntil(lambda: bool(dialog.entries), timeout=5000)
    learned = {e["mac"]: e["port"] for e in dialog.entries if not e["local"]}
    assert learned.get(a_mac) == "p0"
    cells = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert a_mac in cells
    dialog.close()
    window.close()


def test_open_live_system_greys_what_is_not_nstopos(qtbot, helper, tmp_path) -> None:
    window = live_window(qtbot, helper, "veth-namespaces")
    deploy(qtbot, window)
    helper.sandbox.run("ip", "netns", "add", "stranger")
    window.live_control.open_live_system()
    qtbot.waitUntil(lambda: "stranger" in window.doc.topology, timeout=10000)
    doc = window.doc
    assert {"left", "right", "stranger"} <= set(doc.topology.node_names())
    assert "stranger" in doc.foreign_nodes and "left" not in doc.foreign_nodes
    assert window.scene.nodes["stranger"].foreign and not window.scene.nodes["left"].foreign
    assert all(v.position is not None for _, v in doc.topology.nodes())  # laid out
    window.scene.select(["stranger"])
    assert not window.inspector.isEnabled()  # read-only
    panel = window.live_panel
    assert not panel.deploy_button.isEnabled()  # a view of the system, not a design
    assert "holds objects nstopo did not make" in panel.status.text()
    window.editing.delete_selection()
    assert "stranger" in doc.topology  # not deleted
    doc.save(tmp_path / "start.yaml")  # a design to start from
    reopened = Document.open(tmp_path / "start.yaml")
    assert set(reopened.topology.node_names()) == set(doc.topology.node_names())
    window.close()


def test_open_in_wireshark_hands_it_a_pcap_of_the_list(
    qtbot, helper, tmp_path, monkeypatch
) -> None:
    """Wireshark itself is not installed here: a stand-in program on PATH records
    what the editor started it with."""
    bin_dir, record = tmp_path / "bin", tmp_path / "started-with"
    bin_dir.mkdir()
    stand_in = bin_dir / "wireshark"
    stand_in.write_text(f'#!/bin/sh\necho "$@" > {record}\n')
    stand_in.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    window = live_window(qtbot, helper, "veth-namespaces")
    capture = window.capture_panel
    assert capture.wireshark_button.isEnabled()
    deploy(qtbot, window)
    window.live_control.capture("left", "eth0")
    qtbot.waitUntil(lambda: bool(capture.active), timeout=5000)
    window.ping_panel.count.setValue(2)
    window.ping_panel.interval.setValue(100)
    run = window.ping_panel.runs[window.live_control.ping("left", "right")]
    qtbot.waitUntil(lambda: not run.running and len(capture.model.packets) >= 4, timeout=10000)
    capture.wireshark_button.click()
    qtbot.waitUntil(record.exists, timeout=5000)
    pcap = Path(record.read_text().strip())
    with open(pcap, "rb") as f:
        frames = list(dpkt.pcap.Reader(f))
    assert len(frames) == len(capture.model.packets)
    assert pcap.parent.name.startswith("nstopo-capture-")
    shutil.rmtree(pcap.parent)
    window.close()


def test_opening_another_document_ends_the_previous_ones_probes(qtbot, helper) -> None:
    window = live_window(qtbot, helper, "veth-namespaces")
    deploy(qtbot, window)
    seen: list[tuple[float, str, dict]] = []
    window.connection.notification.connect(lambda m, p: seen.append((time.monotonic(), m, p)))
    window.live_control.capture("left", "eth0")
    qtbot.waitUntil(lambda: bool(window.capture_panel.active), timeout=5000)
    [capture_id] = window.capture_panel.active
    window.ping_panel.count.setValue(0)  # until stopped
    window.ping_panel.interval.setValue(100)
    tag = window.live_control.ping("left", "right")
    run = window.ping_panel.runs[tag]
    qtbot.waitUntil(lambda: len(run.rtts) >= 2, timeout=5000)
    window._attach(Document.open(EXAMPLES / "loopback.yaml"))  # another document
    replaced = time.monotonic()
    said = window.statusBar().currentMessage()  # the lab left running is said, not hidden
    assert "Lab “veth-namespaces” keeps running" in said and "Labs dock" in said
    qtbot.waitUntil(
        lambda: any(m == "capture.end" and p["capture"] == capture_id for _, m, p in seen),
        timeout=5000,
    )
    qtbot.wait(600)  # the ping sent every 100 ms: no replies may follow the stop
    late = [
        at for at, m, p in seen if m == "ping.reply" and p["tag"] == tag and at > replaced + 0.3
    ]
    assert late == []
    window.close()


def test_a_document_with_errors_cannot_be_deployed_until_fixed(qtbot, helper) -> None:
    window = live_window(qtbot, helper, "veth-namespaces")
    panel = window.live_panel
    qtbot.waitUntil(panel.deploy_button.isEnabled, timeout=5000)
    clash = Link((Endpoint("left", "eth0"), Endpoint("right", "eth1")))  # left has an eth0
    window.doc.push(AddLink(window.doc, clash))
    # The panel follows the validation, which runs once in the next event-loop turn.
    qtbot.waitUntil(lambda: not panel.deploy_button.isEnabled(), timeout=1000)
    assert "has errors (see Problems)" in panel.status.text()
    window.doc.undo.undo()
    qtbot.waitUntil(panel.deploy_button.isEnabled, timeout=1000)
    assert helper.facts()["namespaces"] == []  # nothing was tried
    window.close()


def test_a_lab_applied_or_destroyed_by_another_client_is_followed(qtbot, helper) -> None:
    window, lid = deployed_pair(qtbot, helper)
    with helper.client() as client:  # e.g. `nstopo destroy` in a terminal
        client.call("lab.destroy", {"lab": "veth-namespaces"})
    qtbot.waitUntil(lambda: not window.live.running, timeout=5000)
    assert window.scene.links[lid].end_marks == (None, None)
    assert "is not deployed" in window.live_panel.status.text()
    changed = load(EXAMPLES / "veth-namespaces.yaml").topology
    link = changed.link(changed.link_ids()[0])
    changed.set_link(changed.link_ids()[0], replace(link, mtu=1400))
    with helper.client() as client:  # `nstopo apply` of a slightly different file
        client.call("lab.apply", {"topology": to_document(changed)})
    qtbot.waitUntil(lambda: window.live.running and bool(window.live.pending_steps), timeout=5000)
    assert window.live.deployed == changed
    # The drawing says mtu 1500 (default): Apply would set it back, and says so.
    commands = [step["command"] for step in window.live.pending_steps]
    assert commands == [
        "ip -n left link set dev eth0 mtu 1500",
        "ip -n right link set dev eth0 mtu 1500",
    ], commands
    window.close()


def test_lo_is_a_line_of_its_namespace_box_with_the_kernels_state(qtbot, helper) -> None:
    """lo is listed up or down like any interface, and its dot follows the kernel."""
    window, _ = deployed_pair(qtbot, helper)
    left = window.scene.nodes["left"]
    row = next(i for i, line in enumerate(left.lines) if line.split()[0] == "lo")
    assert left.lines[row].split()[1] == "up"
    qtbot.waitUntil(lambda: len(left.marks) > row and left.marks[row] == UP, timeout=3000)
    helper.sandbox.run("ip", "-n", "left", "link", "set", "lo", "down")
    qtbot.waitUntil(lambda: left.marks[row] == DOWN, timeout=3000)
    window.close()
