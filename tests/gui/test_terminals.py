"""Terminals in the editor (issue 15), against a real helper (root, sandboxed): a
node's menu opens a shell in the terminal dock that shows its output and takes real
key events; "Run on selected nodes" shows each node's output side by side."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

from helper_process import RunningHelper
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.gui.terminaldock import KernelDialog, RunOnNodesDialog
from nstopo.gui.termwidget import TerminalView
from nstopo.resources import EXAMPLES
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from sandbox import needs_root
from test_live import context_menu, deploy

pytestmark = needs_root


def live_lab(qtbot, helper: RunningHelper, tmp_path: Path, extra: str = "") -> MainWindow:
    """The two-namespace example under a name of this run, deployed from the editor."""
    name = f"t15-{uuid.uuid4().hex[:8]}"
    text = (EXAMPLES / "veth-namespaces.yaml").read_text()
    text = text.replace("  right:\n", extra + "  right:\n")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("name: veth-namespaces", f"name: {name}"))
    window = MainWindow(Document.open(path), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.connection.is_ready, timeout=10000)
    deploy(qtbot, window)
    return window


def destroy(window: MainWindow, helper: RunningHelper) -> None:
    with helper.client() as client:
        client.call("lab.destroy", {"lab": window.doc.topology.name})
    window.close()


def test_a_nodes_terminal_shows_the_shell_and_takes_keys(qtbot, helper, tmp_path) -> None:
    window = live_lab(qtbot, helper, tmp_path)
    try:
        menu = context_menu(window, "left")
        assert {"Open terminal", "Open in system terminal", "Run on selected nodes…"} <= set(menu)
        menu["Open terminal"].trigger()
        dock = window.live_control.terminals.dock
        assert dock is not None and dock.tabs.tabText(0) == "left"
        view = dock.tabs.widget(0)
        assert isinstance(view, TerminalView)
        qtbot.waitUntil(lambda: view.text().strip() != "", timeout=10000)  # the prompt
        qtbot.keyClicks(view, "echo $((6*7))")
        qtbot.keyClick(view, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: "42" in view.text().splitlines()[1:], timeout=10000)
        # Ctrl-C reaches the node's foreground job through the pty
        qtbot.keyClicks(view, "sleep 100")
        qtbot.keyClick(view, Qt.Key.Key_Return)
        qtbot.wait(300)
        qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(view, "echo done-$((1+1)) $NSTOPO_NODE")
        qtbot.keyClick(view, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: "done-2 left" in view.text(), timeout=5000)
        # the shell ends: the tab says so
        qtbot.keyClicks(view, "exit")
        qtbot.keyClick(view, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: dock.tabs.tabText(0) == "left (ended)", timeout=5000)
    finally:
        destroy(window, helper)


def test_every_key_typed_in_a_terminal_is_the_shells_not_a_shortcut(
    qtbot, helper, tmp_path
) -> None:
    """In a shown, active window, F, L, P and Delete are the canvas's shortcuts and
    Ctrl+C, Ctrl+D, Ctrl+A the Edit menu's: typed in a terminal they are the shell's
    (the walkthrough's `ip` became `i` and turned the ping tool on; Delete removed the
    selected bridge from the running lab's drawing; Ctrl+C did not stop cat)."""
    window = live_lab(qtbot, helper, tmp_path)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    try:
        context_menu(window, "left")["Open terminal"].trigger()
        window.scene.select(["right"])  # what Delete would take
        view = window.live_control.terminals.dock.tabs.widget(0)
        qtbot.waitUntil(lambda: view.text().strip() != "", timeout=10000)
        window.activateWindow()  # back from the context menu's popup
        qtbot.waitUntil(window.isActiveWindow)
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(view.hasFocus)
        qtbot.keyClicks(view, "cat")
        qtbot.keyClick(view, Qt.Key.Key_Return)
        qtbot.wait(300)
        qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)  # ends cat
        qtbot.waitUntil(lambda: "^C" in view.text(), timeout=5000)
        qtbot.waitUntil(lambda: view.text().rstrip().endswith(("#", "$")), timeout=5000)
        qtbot.keyClicks(view, "echo pfl-$((6*7))")
        qtbot.keyClick(view, Qt.Key.Key_Delete)
        qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # line start
        qtbot.keyClick(view, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: "pfl-42" in view.text().splitlines(), timeout=5000)
        assert not window.tools.ping.isChecked() and not window.tools.link.isChecked()
        assert "right" in window.doc.topology and not window.doc.dirty
        assert window.scene.selected_names() == (["right"], [])
    finally:
        destroy(window, helper)


def test_run_on_selected_nodes_shows_each_nodes_output(qtbot, helper, tmp_path) -> None:
    window = live_lab(qtbot, helper, tmp_path)
    try:
        window.scene.select(["left", "right"])
        context_menu(window, "right")["Run on selected nodes…"].trigger()
        dialog = window.live_control.terminals.dialog
        assert isinstance(dialog, RunOnNodesDialog)
        assert sorted(dialog.outputs) == ["left", "right"]
        qtbot.keyClicks(dialog.command, "echo on-$NSTOPO_NODE; ip -4 -o addr show eth0")
        qtbot.keyClick(dialog.command, Qt.Key.Key_Return)
        left, right = (dialog.outputs[n].toPlainText() for n in ("left", "right"))
        assert "on-left" in left and "10.10.0.1/24" in left and "[exit status 0]" in left
        assert "on-right" in right and "10.10.0.2/24" in right
        dialog.close()
        # live, a double-click on a namespace opens its terminal (not the rename)
        view = window.view
        at = view.mapFromScene(window.scene.nodes["right"].sceneBoundingRect().center())
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
        dock = window.live_control.terminals.dock
        assert dock is not None and dock.tabs.tabText(dock.tabs.currentIndex()) == "right"
        assert view.renaming is None
    finally:
        destroy(window, helper)


def test_a_nodes_menu_shows_its_routes_and_addresses_as_the_kernel_has_them(
    qtbot, helper, tmp_path
) -> None:
    window = live_lab(qtbot, helper, tmp_path)
    try:
        helper.sandbox.run("ip", "-n", "left", "route", "add", "10.77.0.0/16", "via", "10.10.0.2")
        context_menu(window, "left")["Routes and addresses…"].trigger()
        dialog = window.live_control.terminals.kernel_dialog
        assert isinstance(dialog, KernelDialog) and dialog.isVisible()
        shown = dialog.text.toPlainText()
        assert "# ip address show" in shown and "inet 10.10.0.1/24" in shown
        assert "10.10.0.0/24 dev eth0 proto kernel scope link src 10.10.0.1" in shown
        assert "10.77.0.0/16 via 10.10.0.2 dev eth0" in shown  # added by hand: the kernel's
        helper.sandbox.run("ip", "-n", "left", "route", "del", "10.77.0.0/16")
        refresh = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Refresh")
        qtbot.mouseClick(refresh, Qt.MouseButton.LeftButton)
        assert "10.77.0.0/16" not in dialog.text.toPlainText()
        dialog.grab().save(str(tmp_path / "kernel-dialog.png"))
        dialog.close()
    finally:
        destroy(window, helper)


def test_a_failing_startup_command_is_reported_after_deploy(qtbot, helper, tmp_path) -> None:
    extra = '    exec: ["echo ready", "echo no such table >&2; exit 2"]\n'
    window = live_lab(qtbot, helper, tmp_path, extra)
    try:
        message = window.statusBar().currentMessage()
        assert "1 startup command(s) failed; left:" in message, message
        assert "exited 2: no such table" in message
    finally:
        destroy(window, helper)


def test_open_in_system_terminal_runs_nstopo_shell_in_the_desktops_terminal(
    qtbot, helper, tmp_path, monkeypatch
) -> None:
    """$TERMINAL is a script that writes down how it was started, and runs the command
    it was given on a pty of its own, as a terminal emulator would."""
    record = tmp_path / "terminal.json"
    terminal = tmp_path / "terminal"
    terminal.write_text(f"#!{sys.executable}\n" + TERMINAL_SCRIPT.replace("RECORD", str(record)))
    terminal.chmod(0o755)
    monkeypatch.setenv("TERMINAL", str(terminal))
    window = live_lab(qtbot, helper, tmp_path)
    try:
        context_menu(window, "left")["Open in system terminal"].trigger()
        qtbot.waitUntil(record.exists, timeout=20000)
        started = json.loads(record.read_text())
        lab = window.doc.topology.name
        assert started["argv"][0] == "-e" and started["argv"][2:] == ["shell", lab, "left"]
        assert Path(started["argv"][1]).name == "nstopo"
        assert started["socket"] == str(helper.socket)
        assert "in-left" in started["out"] and started["status"] == 3, started
    finally:
        destroy(window, helper)


TERMINAL_SCRIPT = """import json, os, pty, sys
assert sys.argv[1] == "-e"
out, sent = bytearray(), []
def read(fd):
    data = os.read(fd, 1024)
    out.extend(data)
    if not sent and (b"# " in out or b"$ " in out):  # the shell's prompt
        os.write(fd, b"echo in-$NSTOPO_NODE; exit 3\\n")
        sent.append(True)
    return data
status = os.waitstatus_to_exitcode(pty.spawn(sys.argv[2:], read))
with open("RECORD", "w") as f:
    json.dump({"argv": sys.argv[1:], "socket": os.environ.get("NSTOPO_SOCKET"),
               "status": status, "out": out.decode(errors="replace")}, f)
"""
