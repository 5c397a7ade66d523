"""The Labs dock: every lab the helper runs (made from this editor, another one, or the
command line), with its namespaces and interfaces; open one as a document, or
destroy it after confirming. The editor hears `lab.changed` only for its own lab (it
subscribes to that lab's events alone), so while the dock is on screen it also asks
the helper every two seconds: a lab applied or destroyed anywhere appears or vanishes
here within moments, and a dock behind a tab costs nothing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .connection import CallError, HelperConnection

COLUMNS = ("Lab", "Namespaces", "Interfaces up")
POLL_MS = 2000


class LabsPanel(QWidget):
    open_requested = Signal(str, dict)  # lab name, its deployed topology document
    labs_changed = Signal()

    def __init__(self, connection: HelperConnection) -> None:
        super().__init__()
        self.connection = connection
        self.labs: dict[str, dict[str, Any]] = {}  # name -> lab.status entry
        self.current_lab = ""  # the open document's lab, marked in the list
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.itemSelectionChanged.connect(self._enable)
        self.tree.itemDoubleClicked.connect(lambda *_: self.open_selected())
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open the running lab as a document (as it was deployed)")
        self.open_button.clicked.connect(self.open_selected)
        self.destroy_button = QPushButton("Destroy…")
        self.destroy_button.setToolTip("Remove the lab from the kernel (asks first)")
        self.destroy_button.clicked.connect(self.destroy_selected)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        for button in (self.open_button, self.destroy_button, self.refresh_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.status)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._soon = QTimer(self)  # lab.changed comes per step of an apply: read once
        self._soon.setSingleShot(True)
        self._soon.setInterval(150)
        self._soon.timeout.connect(self.refresh)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._poll_if_shown)
        connection.ready.connect(self.refresh)
        connection.lost.connect(self._lost)
        connection.notification.connect(self._notified)
        self._show()
        if connection.is_ready:
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self._poll.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._poll.stop()

    def _poll_if_shown(self) -> None:
        if self.isVisible() and self.connection.is_ready:
            self.refresh()

    @property
    def names(self) -> set[str]:
        return set(self.labs)

    def namespaces_except(self, lab: str) -> set[str]:
        """The namespaces the other running labs hold, as last listed."""
        return {
            ns["name"]
            for name, entry in self.labs.items()
            if name != lab
            for ns in entry.get("namespaces", [])
        }

    def refresh(self) -> None:
        if not self.connection.is_ready:
            self._lost()
            return
        self.connection.call("lab.status", {}, self._listed, self._failed, owner=self)

    def _notified(self, method: str, params: Any) -> None:
        if method == "lab.changed" and not self._soon.isActive():
            self._soon.start()

    def _listed(self, result: list[dict[str, Any]]) -> None:
        self.labs = {entry["lab"]: entry for entry in result}
        self._show()
        self.labs_changed.emit()

    def _failed(self, error: CallError) -> None:
        self.status.setText(f"Cannot list the labs: {error.message}")

    def _lost(self) -> None:
        self.labs = {}
        self._show()
        self.status.setText("No helper connected: no labs to list.")

    def set_current(self, lab: str) -> None:
        self.current_lab = lab
        self._show()

    def _show(self) -> None:
        chosen = self.selected()
        self.tree.clear()
        for name, entry in sorted(self.labs.items()):
            spaces = entry.get("namespaces", [])
            links = [x for ns in spaces for x in ns.get("links", [])] + entry.get("host_links", [])
            up = sum(1 for x in links if x.get("oper") in ("UP", "UNKNOWN"))
            label = f"{name}  (open)" if name == self.current_lab else name
            item = QTreeWidgetItem([label, str(len(spaces)), f"{up}/{len(links)}"])
            item.setData(0, Qt.ItemDataRole.UserRole, name)
            item.setToolTip(0, ", ".join(ns["name"] for ns in spaces) or "no namespaces")
            self.tree.addTopLevelItem(item)
            if name == chosen:
                item.setSelected(True)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        count = len(self.labs)
        self.status.setText(
            f"{count} lab(s) running on the helper." if count else "No lab runs on the helper."
        )
        self._enable()

    def selected(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(0, Qt.ItemDataRole.UserRole) if items else None

    def select(self, lab: str) -> None:
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) == lab)

    def _enable(self) -> None:
        chosen = self.selected() is not None
        self.open_button.setEnabled(chosen)
        self.destroy_button.setEnabled(chosen)

    # -- actions -------------------------------------------------------------------------------
    def open_selected(self) -> None:
        lab = self.selected()
        if lab is None:
            return
        self.connection.call(
            "lab.topology",
            {"lab": lab},
            lambda result: self.open_requested.emit(lab, result["topology"]),
            self._failed,
            owner=self,
        )

    def ask_destroy(self, lab: str) -> bool:
        """Really destroy? (a dialog; tests answer it themselves)"""
        answer = QMessageBox.question(
            self,
            "Destroy lab",
            f"Destroy lab “{lab}”? Everything it made is removed from the kernel.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def destroy_selected(self) -> None:
        lab = self.selected()
        if lab is None or not self.ask_destroy(lab):
            return
        self.status.setText(f"Destroying “{lab}”…")
        self.connection.call(
            "lab.destroy", {"lab": lab, "force": False}, lambda _: self.refresh(), self._failed
        )
