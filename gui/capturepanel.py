"""The Capture dock: live packets from the lab's interfaces (time, where, direction,
protocol-colored summary), a pcap filter (what is captured) and a display filter (what
of it is listed), pause, clear, save as pcap, open in Wireshark. Every packet is also
handed to the canvas animation."""

from __future__ import annotations

import base64
import datetime
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dpkt
from nstopo.backend.pcapfile import SNAPLEN
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QProcess,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .animation import PROTOCOL_COLORS
from .connection import CallError, HelperConnection
from .live import LiveSession

MAX_ROWS = 100_000  # older packets scroll out of the list (and of a saved pcap)
COLUMNS = ("No.", "Time", "Where", "Dir", "Protocol", "Summary")
FLUSH_MS = 40
LINKTYPE_RAW = 101  # DLT_RAW: tun devices carry bare IP packets


@dataclass(frozen=True)
class Packet:
    number: int
    time: float
    where: str
    direction: str
    protocol: str
    summary: str
    frame: bytes
    ethernet: bool


class PacketModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.packets: list[Packet] = []

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return len(self.packets)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role: int = 0) -> Any:
        packet = self.packets[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            stamp = datetime.datetime.fromtimestamp(packet.time).strftime("%H:%M:%S.%f")
            return (
                packet.number,
                stamp,
                packet.where,
                packet.direction,
                packet.protocol.upper(),
                packet.summary,
            )[index.column()]
        if role == Qt.ItemDataRole.BackgroundRole:
            color = QColor(PROTOCOL_COLORS.get(packet.protocol, PROTOCOL_COLORS["other"]))
            color.setAlpha(45)
            return color
        return None

    def append(self, packets: list[Packet]) -> None:
        overflow = len(self.packets) + len(packets) - MAX_ROWS
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            del self.packets[:overflow]
            self.endRemoveRows()
        first = len(self.packets)
        self.beginInsertRows(QModelIndex(), first, first + len(packets) - 1)
        self.packets.extend(packets)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.packets = []
        self.endResetModel()


class CapturePanel(QWidget):
    packet_captured = Signal(object)  # the capture.packet params: for the animation

    def __init__(self, session: LiveSession, connection: HelperConnection) -> None:
        super().__init__()
        self.session, self.connection = session, connection
        self.active: dict[int, str] = {}  # capture id -> "node:interface"
        self.linktypes: dict[int, bool] = {}  # capture id -> has an Ethernet header
        self.wanted: list[tuple[str, str | None]] = []  # what runs, to restart on a new filter
        self.paused = False
        self._held: list[Packet] = []  # arrived while paused: shown on resume
        self._numbers = 0
        self._incoming: list[Packet] = []
        self._flush = QTimer(self)  # rows are added in batches: thousands per second stay cheap
        self._flush.setSingleShot(True)
        self._flush.setInterval(FLUSH_MS)
        self._flush.timeout.connect(self._add_incoming)
        self.model = PacketModel()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("pcap filter, as tcpdump takes it (e.g. arp or icmp)")
        self.filter.returnPressed.connect(self.restart_all)
        self.pause_button = _tool_button("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self.set_paused)
        self.clear_button = _tool_button("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.save_button = _tool_button("Save pcap…")
        self.save_button.clicked.connect(self._save_dialog)
        self.wireshark_button = _tool_button("Wireshark")
        self.wireshark_button.clicked.connect(self.open_in_wireshark)
        self.wireshark_button.setEnabled(shutil.which("wireshark") is not None)
        self.wireshark_button.setToolTip("Open what was captured in Wireshark")
        if not self.wireshark_button.isEnabled():
            self.wireshark_button.setToolTip("Wireshark is not installed")
        self.stop_button = _tool_button("Stop all")
        self.stop_button.clicked.connect(self.stop_all)
        self.status = QLabel("Capture: right-click an interface or a link end on the canvas.")
        self.status.setWordWrap(True)
        self.table = QTableView()
        # What is shown: every packet, or those whose line contains the display filter.
        self.shown = QSortFilterProxyModel(self)
        self.shown.setSourceModel(self.model)
        self.shown.setFilterKeyColumn(-1)  # any column
        self.shown.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.show_only = QLineEdit()
        self.show_only.setPlaceholderText("list only lines containing… (e.g. Reply)")
        self.show_only.textChanged.connect(self.shown.setFilterFixedString)
        self.table.setModel(self.shown)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(20)  # one line per packet
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((56, 118, 110, 40, 70)):
            self.table.setColumnWidth(column, width)
        mono = QFont("DejaVu Sans Mono")
        mono.setPixelSize(11)
        self.table.setFont(mono)
        filters = QHBoxLayout()
        filters.addWidget(self.filter, 3)
        filters.addWidget(self.show_only, 2)
        controls = QHBoxLayout()
        for button in (
            self.pause_button,
            self.clear_button,
            self.save_button,
            self.wireshark_button,
            self.stop_button,
        ):
            controls.addWidget(button)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(filters)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        session.notification.connect(self._notified)
        self._show_status()

    # -- starting and stopping ----------------------------------------------------------------
    def start(self, node: str, interface: str | None) -> None:
        """Capture on `node:interface` (interface None: the bridge, tap or tun itself)."""
        if (node, interface) not in self.wanted:
            self.wanted.append((node, interface))
        params = {
            "lab": self.session.lab,
            "node": node,
            "interface": interface,
            "filter": self.filter.text().strip(),
            "raw": True,
        }
        where = f"{node}:{interface}" if interface else node
        self.connection.call(
            "capture.start",
            params,
            lambda result: self._started(result, where),
            lambda error: self._failed(where, error),
            owner=self,
        )

    def _started(self, result: dict[str, Any], where: str) -> None:
        self.active[result["capture"]] = where
        self.linktypes[result["capture"]] = result["linktype"] == "ethernet"
        self._show_status()

    def _failed(self, where: str, error: CallError) -> None:
        self.wanted = [w for w in self.wanted if (f"{w[0]}:{w[1]}" if w[1] else w[0]) != where]
        self.status.setText(f"Cannot capture on {where}: {error.message}")

    def stop_all(self) -> None:
        self.wanted = []
        for ident in list(self.active):
            self.connection.call("capture.stop", {"capture": ident})

    def restart_all(self) -> None:
        """A new filter: the running captures start again with it."""
        wanted = list(self.wanted)
        for ident in list(self.active):
            self.connection.call("capture.stop", {"capture": ident})
        self.active.clear()
        for node, interface in wanted:
            self.start(node, interface)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.pause_button.setText("Resume" if paused else "Pause")
        if not paused and self._held:
            self.model.append(self._held)
            self._held = []
            self.table.scrollToBottom()

    def clear(self) -> None:
        self.model.clear()
        self._held, self._incoming = [], []
        self._numbers = 0

    # -- packets -------------------------------------------------------------------------------
    def _notified(self, method: str, params: Any) -> None:
        if method == "capture.packet" and params.get("capture") in self.active:
            self._numbers += 1
            packet = Packet(
                self._numbers,
                params["time"],
                self.active[params["capture"]],
                params["direction"],
                params["protocol"],
                params["summary"],
                base64.b64decode(params["data"]) if params.get("data") else b"",
                self.linktypes.get(params["capture"], True),
            )
            self.packet_captured.emit(params)
            (self._held if self.paused else self._incoming).append(packet)
            if not self._flush.isActive():
                self._flush.start()
        elif method == "capture.end" and params.get("capture") in self.active:
            where = self.active.pop(params["capture"])
            self.status.setText(
                f"Capture on {where} ended ({params['reason']}): {params['packets']} packets, "
                f"{params['dropped']} dropped by nstopo, {params['kernel_dropped']} by the kernel."
            )

    def _add_incoming(self) -> None:
        if self._incoming:
            self.model.append(self._incoming)
            self._incoming = []
            self.table.scrollToBottom()

    def _show_status(self) -> None:
        if self.active:
            self.status.setText("Capturing on " + ", ".join(sorted(self.active.values())))

    # -- files ---------------------------------------------------------------------------------
    def save_pcap(self, path: Path) -> int:
        """Write the listed packets (all of them, paused ones too); returns how many."""
        self._add_incoming()
        packets = [p for p in [*self.model.packets, *self._held] if p.frame]
        ethernet = all(p.ethernet for p in packets)
        kept = [p for p in packets if p.ethernet == ethernet]  # one link type per file
        with open(path, "wb") as out:
            writer = dpkt.pcap.Writer(  # snaplen as tcpdump's: whole frames, GSO ones too
                out, snaplen=SNAPLEN, linktype=dpkt.pcap.DLT_EN10MB if ethernet else LINKTYPE_RAW
            )
            for packet in kept:
                writer.writepkt(packet.frame, ts=packet.time)
        return len(kept)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save capture", "capture.pcap", "pcap (*.pcap)")
        if path:
            count = self.save_pcap(Path(path))
            self.status.setText(f"Saved {count} packets to {path}.")

    def open_in_wireshark(self) -> None:
        wireshark = shutil.which("wireshark")
        if wireshark is None:
            return
        folder = Path(tempfile.mkdtemp(prefix="nstopo-capture-"))
        path = folder / "capture.pcap"
        self.save_pcap(path)
        QProcess.startDetached(wireshark, [str(path)])


def _tool_button(text: str) -> QToolButton:
    """A button as wide as its word: the dock stays narrow enough for small screens."""
    button = QToolButton()
    button.setText(text)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button
