"""A bridge's forwarding database on demand: which MAC the bridge has seen behind which
port, as `bridge fdb show br BR` lists it, with a Refresh button."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .connection import CallError, HelperConnection

COLUMNS = ("MAC", "Port", "VLAN", "Kind", "Last seen")


class FdbDialog(QDialog):
    def __init__(
        self, connection: HelperConnection, lab: str, bridge: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.connection, self.lab, self.bridge = connection, lab, bridge
        self.entries: list[dict[str, Any]] = []
        self.setWindowTitle(f"Forwarding database of {bridge}")
        self.resize(640, 360)
        self.status = QLabel("Reading…")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        # Columns as wide as what they hold: a MAC is never cut.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(refresh)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.connection.call(
            "bridge.fdb",
            {"lab": self.lab, "node": self.bridge},
            self._show,
            self._failed,
            owner=self,
        )

    def _show(self, result: dict[str, Any]) -> None:
        self.entries = result["entries"]
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            kind = "local" if entry["local"] else "static" if entry["static"] else "learned"
            age = "" if entry["age_s"] is None else f"{entry['age_s']:.0f} s ago"
            cells = (entry["mac"], entry["port"], str(entry["vlan"] or ""), kind, age)
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        learned = sum(1 for e in self.entries if not e["local"])
        self.status.setText(f"{len(self.entries)} entries, {learned} learned from traffic.")

    def _failed(self, error: CallError) -> None:
        self.status.setText(f"Cannot read the forwarding database: {error.message}")
