"""The main window's live-mode actions: the ping tool, captures, rates, a bridge's
forwarding database, the canvas's context menu and File → Open live system (a mixin:
MainWindow is long enough without them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nstopo.model.schema import topology_from_document
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QDockWidget, QInputDialog, QWidget

from .document import Document
from .fdbdialog import FdbDialog
from .livemenu import live_menu

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QStatusBar

    from .capturepanel import CapturePanel
    from .connection import HelperConnection
    from .pingpanel import PingPanel
    from .ratespanel import RatesPanel
    from .scene import EditorScene


class LiveActions:
    # Provided by MainWindow.
    scene: EditorScene
    doc: Document
    connection: HelperConnection
    ping_tool: QAction
    link_tool: QAction
    ping_panel: PingPanel
    capture_panel: CapturePanel
    rates_panel: RatesPanel
    _docks: dict[str, QDockWidget]

    if TYPE_CHECKING:

        def statusBar(self) -> QStatusBar: ...
        def confirm_discard(self) -> bool: ...
        def drop_autosave(self) -> None: ...
        def layout_all(self) -> None: ...
        def _attach(self, doc: Document) -> None: ...

    def _toggle_ping(self) -> None:
        self.link_tool.setChecked(False)
        self.scene.use_tool("ping" if self.ping_tool.isChecked() else "select")
        if self.ping_tool.isChecked():
            self.statusBar().showMessage("Ping tool: click the source node, then the target.")
        else:
            self.statusBar().clearMessage()  # the tool's hint is not true any more

    def start_ping_tool(self, source: str | None = None) -> None:
        self.ping_tool.setChecked(True)
        self.link_tool.setChecked(False)
        self.scene.use_tool("ping", source)
        if source:
            self.statusBar().showMessage(f"Ping from {source}: click the target node or canvas.")

    def ping(self, source: str, target: str) -> str:
        self._docks["Ping"].raise_()
        self.statusBar().clearMessage()  # "click the target" is done
        return self.ping_panel.start(source, target)

    def ask_address(self, source: str) -> str | None:
        """The address to ping when the target click was not on a node (tests replace it)."""
        window: QWidget = self  # type: ignore[assignment]
        text, ok = QInputDialog.getText(window, "Ping", f"Ping from {source} to address:")
        return text.strip() if ok and text.strip() else None

    def _ping_address(self, source: str, where: object) -> None:
        address = self.ask_address(source)
        if address:
            self.ping(source, address)

    def capture(self, node: str, interface: str | None) -> None:
        self._docks["Capture"].raise_()
        self.capture_panel.start(node, interface)

    def show_rates(self, key: tuple[str | None, str]) -> None:
        self._docks["Rates"].raise_()
        self.rates_panel.show_interface(key)

    def show_fdb(self, bridge: str) -> FdbDialog:
        window: QWidget = self  # type: ignore[assignment]
        dialog = FdbDialog(self.connection, self.doc.topology.name, bridge, window)
        dialog.show()
        return dialog

    def _context_menu(self, kind: str, key: str, where: QPoint) -> None:
        live_menu(self, kind, key).popup(where)  # type: ignore[arg-type]

    def open_live_system(self) -> None:
        """What runs on this host, as the helper discovers it, as a new document."""
        if not self.confirm_discard():
            return
        self.statusBar().showMessage("Reading the live system…")
        self.connection.call(
            "host.discover",
            None,
            self._show_live_system,
            lambda error: self.statusBar().showMessage(f"Cannot read the system: {error.message}"),
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
        self.drop_autosave()
        self._attach(doc)
        self.layout_all()
        doc.undo.clear()
        doc.undo.setClean()
        unmapped = found.get("unmapped") or []
        note = f"; not drawn: {', '.join(unmapped)}" if unmapped else ""
        self.statusBar().showMessage(
            f"Live system: {len(topology)} objects, greyed ones are not nstopo's{note}"
        )
