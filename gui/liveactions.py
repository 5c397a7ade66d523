"""The live-mode controller: the ping tool, captures, rates, a bridge's forwarding
database, the canvas's context menu and File → Open live system. It is given what it
works with (the connection, the status bar, the tool actions, how to raise a dock and
show a document) and follows the shown document through `attach`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nstopo.model.placement import namespace_of_node
from nstopo.model.schema import topology_from_document
from nstopo.model.topology import Topology
from PySide6.QtCore import QObject, QPoint, QPointF
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMenu, QStatusBar, QWidget

from .capturepanel import CapturePanel
from .connection import HelperConnection
from .document import Document
from .docview import DocumentView
from .fdbdialog import FdbDialog
from .livemenu import live_menu
from .nodeshowdialog import NodeShowDialog
from .pingpanel import PingPanel
from .ratespanel import RatesPanel
from .terminaldock import Terminals, in_namespace


@dataclass
class ToolActions:
    """The checkable canvas tools of the menus and the toolbar (they exclude each other)."""

    link: QAction
    ping: QAction

    def show(self, name: str) -> None:
        self.link.setChecked(name == "link")
        self.ping.setChecked(name == "ping")


@dataclass
class LivePanels:
    ping: PingPanel
    capture: CapturePanel
    rates: RatesPanel


class LiveController(QObject):
    def __init__(
        self,
        window: QWidget,
        connection: HelperConnection,
        status: QStatusBar,
        tools: ToolActions,
        raise_dock: Callable[[str], None],
        confirm_discard: Callable[[], bool],
        show_document: Callable[[Document, bool], None],  # (document, lay it out)
        edit_items: Callable[[QMenu, str, str, QPoint], None],  # a context menu's edit half
    ) -> None:
        super().__init__(window)
        self.window, self.connection, self.status, self.tools = window, connection, status, tools
        self._raise_dock, self._confirm_discard = raise_dock, confirm_discard
        self._show_document, self._edit_items = show_document, edit_items
        self.view: DocumentView | None = None
        self.panels: LivePanels | None = None
        self.menu: QMenu | None = None  # the context menu last shown
        self.terminals = Terminals(window, connection.path, lambda: self.topology,
                                   self._selected_nodes)  # type: ignore[arg-type]  # fmt: skip

    def attach(self, view: DocumentView, panels: LivePanels) -> None:
        """Follow another document (its probes were ended by the window)."""
        self.view, self.panels = view, panels
        view.scene.ping_requested.connect(self.ping)
        view.scene.ping_address_wanted.connect(self._ping_address)
        view.scene.context_requested.connect(self.context_menu)
        view.view.node_double_clicked = self._double_clicked
        view.live.changed.connect(self._report_startup)

    # -- what the menu needs ---------------------------------------------------------------
    @property
    def topology(self) -> Topology:
        assert self.view is not None
        return self.view.doc.topology

    @property
    def running(self) -> bool:
        live = self.view.live if self.view is not None else None
        return live is not None and live.running and live.connected

    # -- the ping tool -----------------------------------------------------------------------
    def toggle_ping(self) -> None:
        assert self.view is not None
        on = self.tools.ping.isChecked()
        self.tools.show("ping" if on else "select")
        self.view.scene.use_tool("ping" if on else "select")
        if on:
            self.status.showMessage("Ping tool: click the source node, then the target.")
        else:
            self.status.clearMessage()  # the tool's hint is not true any more

    def start_ping_tool(self, source: str | None = None) -> None:
        assert self.view is not None
        self.tools.show("ping")
        self.view.scene.use_tool("ping", source)
        if source:
            self.status.showMessage(f"Ping from {source}: click the target node or canvas.")

    def ping(self, source: str, target: str) -> str:
        assert self.panels is not None
        self._raise_dock("Ping")
        self.status.clearMessage()  # "click the target" is done
        return self.panels.ping.start(source, target)

    def ask_address(self, source: str) -> str | None:
        """The address to ping when the target click was not on a node (tests replace it)."""
        text, ok = QInputDialog.getText(self.window, "Ping", f"Ping from {source} to address:")
        return text.strip() if ok and text.strip() else None

    def _ping_address(self, source: str, where: QPointF) -> None:
        address = self.ask_address(source)
        if address:
            self.ping(source, address)

    # -- captures, rates, forwarding database ---------------------------------------------
    def capture(self, node: str, interface: str | None) -> None:
        assert self.panels is not None
        self._raise_dock("Capture")
        self.panels.capture.start(node, interface)

    def show_rates(self, key: tuple[str | None, str]) -> None:
        assert self.panels is not None
        self._raise_dock("Rates")
        self.panels.rates.show_interface(key)

    def show_fdb(self, bridge: str) -> FdbDialog:
        dialog = FdbDialog(self.connection, self.topology.name, bridge, self.window)
        dialog.show()
        return dialog

    def show_kernel(self, node: str) -> NodeShowDialog:
        """The node's routes, rules, neighbours and firewall, kept current (one window
        per node: asking again raises it)."""
        assert self.view is not None
        lab = self.topology.name
        for dialog in self.window.findChildren(NodeShowDialog):
            if (dialog.lab, dialog.node) == (lab, node):
                dialog.show()
                dialog.raise_()
                dialog.refresh()
                return dialog
        ns = namespace_of_node(self.topology.get_node, node)
        dialog = NodeShowDialog(self.connection, lab, node, ns, self.window)
        self.view.live.interface_changed.connect(dialog.kernel_changed)
        dialog.show()
        return dialog

    def _report_startup(self) -> None:
        """After an apply: the startup commands (exec:) that failed, in the status bar."""
        live = self.view.live if self.view is not None else None
        if live is None or not live.startup:
            return
        failed = [r for r in live.startup if r["status"] != 0]
        live.startup = []
        if failed:
            first = failed[0]
            said = (first["stderr"] or first["stdout"]).strip().splitlines()[-1:] or [""]
            self.status.showMessage(
                f"{len(failed)} startup command(s) failed; {first['node']}: "
                f"{first['command']!r} exited {first['status']}: {said[0]}"
            )

    def _double_clicked(self, node: str) -> bool:
        """In a running lab, a namespace's double-click opens its terminal."""
        if not self.running or not in_namespace(self.topology, node):
            return False
        self.terminals.open_terminal(node)
        return True

    def _selected_nodes(self) -> list[str]:
        return self.view.scene.selected_names()[0] if self.view is not None else []

    def context_menu(self, kind: str, key: str, where: QPoint) -> None:
        """The editing items first, then (on a node or a link) the live ones."""
        self.menu = QMenu(self.window)
        self._edit_items(self.menu, kind, key, where)
        if kind in ("node", "link"):
            self.menu.addSeparator()
            live_menu(self, self.window, kind, key, self.menu)
        self.menu.popup(where)

    # -- File → Open live system -------------------------------------------------------------
    def open_live_system(self) -> None:
        """What runs on this host, as the helper discovers it, as a new document."""
        if not self._confirm_discard():
            return
        self.status.showMessage("Reading the live system…")
        self.connection.call(
            "host.discover",
            None,
            self._show_live_system,
            lambda error: self.status.showMessage(f"Cannot read the system: {error.message}"),
        )

    def _show_live_system(self, found: dict) -> None:
        topology = topology_from_document(found["topology"])
        doc = Document(topology)
        doc.foreign_nodes = {name for name, lab in found["owners"].items() if lab is None}
        ids = topology.link_ids()
        doc.foreign_links = {
            ids[i]
            for i, link in enumerate(found["links"])
            if link["owner"] is None and i < len(ids)
        }
        self._show_document(doc, True)
        unmapped = found.get("unmapped") or []
        note = f"; not drawn: {', '.join(unmapped)}" if unmapped else ""
        self.status.showMessage(
            f"Live system: {len(topology)} objects, greyed ones are not nstopo's{note}", 15000
        )
