"""The editor's terminals: a dock with one tab per node (exec.pty; the helper hands
the pty over, keys then go straight to the node's shell), the desktop's own terminal
running `nstopo shell`, one command run on several nodes side by side, and a node's
routes and addresses as the kernel has them (node.show)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable

from nstopo.backend.client import HelperClient
from nstopo.backend.ptyclient import open_pty
from nstopo.model.topology import Topology
from nstopo.protocol.errors import RpcError
from nstopo.protocol.methods import Method
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .termwidget import TerminalView


class TerminalDock(QDockWidget):
    def __init__(self, socket_path: str, parent: QWidget | None = None) -> None:
        super().__init__("Terminals", parent)
        self.setObjectName("TerminalsDock")
        self.socket_path = socket_path
        self.tabs = QTabWidget(self)
        self.tabs.setTabsClosable(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.setWidget(self.tabs)

    def open(self, lab: str, node: str) -> TerminalView | None:
        """A new tab with a shell in the node (None, after saying why, if refused)."""
        try:
            with HelperClient(self.socket_path, timeout=10, client="nstopo-editor") as client:
                fd, _ = open_pty(client, {"lab": lab, "node": node, "rows": 24, "cols": 80,
                                          "env": {"LANG": "C.UTF-8"}})  # fmt: skip
        except (RpcError, OSError) as exc:
            QMessageBox.warning(self, "Terminal", f"Cannot open a terminal in {node}: {exc}")
            return None
        view = TerminalView(fd, self.tabs)
        index = self.tabs.addTab(view, node)
        view.ended.connect(lambda v=view: self._ended(v))
        self.tabs.setCurrentIndex(index)
        self.show()
        self.raise_()
        view.setFocus()
        return view

    def _ended(self, view: TerminalView) -> None:
        index = self.tabs.indexOf(view)
        if index >= 0:
            self.tabs.setTabText(index, f"{self.tabs.tabText(index)} (ended)")

    def close_tab(self, index: int) -> None:
        view = self.tabs.widget(index)
        if isinstance(view, TerminalView):
            view.close_pty()  # the shell gets SIGHUP
        self.tabs.removeTab(index)
        if view is not None:
            view.deleteLater()


def system_terminal_command(lab: str, node: str) -> list[str] | None:
    """$TERMINAL, else x-terminal-emulator, running `nstopo shell LAB NODE`."""
    terminal = os.environ.get("TERMINAL") or shutil.which("x-terminal-emulator")
    if not terminal:
        return None
    nstopo = shutil.which("nstopo") or os.path.join(os.path.dirname(sys.executable), "nstopo")
    return [terminal, "-e", nstopo, "shell", lab, node]


def open_system_terminal(parent: QWidget, lab: str, node: str, socket_path: str) -> bool:
    command = system_terminal_command(lab, node)
    if command is None:
        QMessageBox.warning(parent, "Terminal", "No terminal found: set $TERMINAL, or "
                                "install one that provides x-terminal-emulator.")  # fmt: skip
        return False
    env = {**os.environ, "NSTOPO_SOCKET": socket_path}
    subprocess.Popen(command, env=env, start_new_session=True)
    return True


class RunOnNodesDialog(QDialog):
    """One command on several nodes; each node's output in its own pane, side by side."""

    def __init__(self, socket_path: str, lab: str, nodes: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Run on selected nodes")
        self.socket_path, self.lab, self.nodes = socket_path, lab, nodes
        self.command = QLineEdit(self)
        self.command.setPlaceholderText("a command, e.g. ip -br addr")
        self.command.returnPressed.connect(self.run)
        run = QPushButton("Run", self)
        run.clicked.connect(self.run)
        top = QHBoxLayout()
        top.addWidget(QLabel(f"On {', '.join(nodes)}:", self))
        top.addWidget(self.command, 1)
        top.addWidget(run)
        self.outputs: dict[str, QPlainTextEdit] = {}
        panes = QSplitter(Qt.Orientation.Horizontal, self)
        for node in nodes:
            pane = QWidget(panes)
            box = QVBoxLayout(pane)
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(QLabel(node, pane))
            output = self.outputs[node] = QPlainTextEdit(pane)
            output.setReadOnly(True)
            output.setObjectName(f"output-{node}")
            output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            box.addWidget(output)
            panes.addWidget(pane)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(panes, 1)
        self.resize(300 * max(2, len(nodes)), 400)

    def run(self) -> None:
        argv = ["sh", "-c", self.command.text()]
        if not self.command.text().strip():
            return
        try:
            with HelperClient(self.socket_path, timeout=60, client="nstopo-editor") as client:
                for node in self.nodes:
                    try:
                        params = {"lab": self.lab, "node": node, "argv": argv, "timeout": 30}
                        found = client.call(Method.EXEC_RUN, params)
                        text = found["stdout"] + found["stderr"]
                        text += f"\n[exit status {found['status']}]"
                    except RpcError as exc:
                        text = f"[refused: {exc.message}]"
                    self.outputs[node].setPlainText(text)
        except RpcError as exc:
            QMessageBox.warning(self, "Run", exc.message)


class KernelDialog(QDialog):
    """A node's interfaces, addresses and routes as the kernel has them there (node.show:
    `ip address show`, `ip route show table all`), read again with Refresh."""

    SECTIONS = ("addresses", "routes")

    def __init__(self, socket_path: str, lab: str, node: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Routes and addresses of {node}")
        self.socket_path, self.lab, self.node = socket_path, lab, node
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.text.setFont(font)
        refresh = QPushButton("Refresh", self)
        refresh.clicked.connect(self.refresh)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addLayout(bottom)
        self.resize(720, 480)
        self.refresh()

    def refresh(self) -> None:
        params = {"lab": self.lab, "node": self.node, "sections": list(self.SECTIONS)}
        try:
            with HelperClient(self.socket_path, timeout=30, client="nstopo-editor") as client:
                found = client.call(Method.NODE_SHOW, params)
        except (RpcError, OSError) as exc:
            self.text.setPlainText(f"Cannot read {self.node}: {exc}")
            return
        parts = []
        for name in self.SECTIONS:
            section = found["sections"][name]
            parts.append(f"# {'; '.join(section['commands'])}\n{section['text']}")
        self.text.setPlainText("\n".join(parts))


def in_namespace(topology: Topology, node: str) -> bool:
    """Has the node a lab namespace to run commands in (a netns, or a device in one)?"""
    found = topology.get_node(node)
    return found is not None and (found.kind == "netns" or bool(getattr(found, "namespace", None)))


class Terminals:
    """What the canvas's menu and double-click do with terminals (live mode)."""

    def __init__(
        self,
        window: QMainWindow,
        socket_path: str,
        topology: Callable[[], Topology],
        selected: Callable[[], list[str]],
    ) -> None:
        self.window, self.socket_path = window, socket_path
        self._topology, self._selected = topology, selected
        self.dock: TerminalDock | None = None
        self.dialog: RunOnNodesDialog | None = None
        self.kernel_dialog: KernelDialog | None = None

    def open_terminal(self, node: str) -> TerminalView | None:
        if self.dock is None:
            self.dock = TerminalDock(self.socket_path, self.window)
            self.window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        return self.dock.open(self._topology().name, node)

    def open_system_terminal(self, node: str) -> bool:
        return open_system_terminal(self.window, self._topology().name, node, self.socket_path)

    def show_kernel(self, node: str) -> KernelDialog:
        self.kernel_dialog = KernelDialog(self.socket_path, self._topology().name, node,
                                          self.window)  # fmt: skip
        self.kernel_dialog.show()
        return self.kernel_dialog

    def run_on_selected(self, node: str) -> RunOnNodesDialog:
        topology = self._topology()
        nodes = [n for n in self._selected() if in_namespace(topology, n)]
        if node not in nodes:
            nodes.insert(0, node)
        self.dialog = RunOnNodesDialog(self.socket_path, topology.name, nodes, self.window)
        self.dialog.show()
        return self.dialog


def add_terminal_items(
    add: Callable[[str, Callable[[], object], bool], None],
    terminals: Terminals | None,
    topology: Topology,
    key: str,
    running: bool,
) -> None:
    """The node menu's terminal items (livemenu.py's hook), and the node's routes and
    addresses as its namespace holds them (the host's for a node in the host)."""
    if terminals is None:
        return
    add("Routes and addresses…", lambda: terminals.show_kernel(key), running)
    if not in_namespace(topology, key):
        return
    add("Open terminal", lambda: terminals.open_terminal(key), running)
    add("Open in system terminal", lambda: terminals.open_system_terminal(key), running)
    add("Run on selected nodes…", lambda: terminals.run_on_selected(key), running)
