"""What the kernel holds in a node's namespace, kept current: routes of every table,
policy rules, neighbours and the nftables ruleset, as the helper's `node.show` reads
them (the text `nstopo show` prints). Re-read when the namespace's links or addresses
change, and every few seconds while shown (neighbours come and go without events)."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .connection import CallError, HelperConnection

SECTIONS = (("routes", "Routes"), ("rules", "Rules"), ("neigh", "Neighbours"),
            ("firewall", "Firewall"))  # fmt: skip
POLL_MS = 3000  # neighbours and conntrack-driven changes send no link events
SETTLE_MS = 150  # a burst of events is one read


class NodeShowDialog(QDialog):
    def __init__(
        self,
        connection: HelperConnection,
        lab: str,
        node: str,
        namespace: str | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.connection, self.lab, self.node, self.namespace = connection, lab, node, namespace
        self.sections: dict[str, dict[str, Any]] = {}
        self.reads = 0  # answers shown so far
        self._in_flight = False
        self._again = False  # something changed while a read was under way
        self.setWindowTitle(f"{node}: routes, rules, neighbours, firewall")
        self.resize(760, 460)
        self.tabs = QTabWidget()
        self.texts: dict[str, QPlainTextEdit] = {}
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for key, title in SECTIONS:
            text = QPlainTextEdit()
            text.setReadOnly(True)
            text.setFont(mono)
            text.setTabStopDistance(text.fontMetrics().horizontalAdvance(" ") * 4)  # nft's tabs
            text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            self.texts[key] = text
            self.tabs.addTab(text, title)
        self.status = QLabel("Reading…")
        self.status.setWordWrap(True)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(refresh)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.refresh)
        self._poll = QTimer(self)  # runs only while shown (showEvent/hideEvent)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.refresh)
        # Closed is gone: its timers, its calls and its slot on the live session with it.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._poll.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._poll.stop()
        self._settle.stop()

    def kernel_changed(self, namespace: str | None, interface: str) -> None:
        """A link or address event (LiveSession.interface_changed): ours? read again."""
        if namespace == self.namespace and self.isVisible():
            self._settle.start()

    def refresh(self) -> None:
        if not self.isVisible() and (self.reads or self._in_flight):
            return  # hidden: nothing to keep current (the first read happens before show)
        if self._in_flight:
            self._again = True
            return
        self._in_flight = True
        self.connection.call(
            "node.show", {"lab": self.lab, "node": self.node}, self._show, self._failed, owner=self
        )

    def _done(self) -> None:
        self._in_flight = False
        if self._again:
            self._again = False
            self._settle.start()

    def _show(self, result: dict[str, Any]) -> None:
        self.sections = result["sections"]
        for key, text in self.texts.items():
            section = self.sections.get(key)
            if section is None:
                continue
            shown = f"# {'; '.join(section['commands'])}\n{section['text']}"
            if text.toPlainText() != shown:  # keep the scroll position when nothing moved
                bar = text.verticalScrollBar().value()
                text.setPlainText(shown)
                text.verticalScrollBar().setValue(bar)
        self.reads += 1
        where = self.namespace or "the host"
        self.status.setText(f"As the kernel has it in {where}, read at {time.strftime('%X')}.")
        self._done()

    def _failed(self, error: CallError) -> None:
        self.status.setText(f"Cannot read {self.node}: {error.message}")
        self._done()
