"""The Ping dock: pings started from the canvas (several at once), each with ping's own
lines, its loss, and its round-trip times on one shared plot."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pyqtgraph as pg
from nstopo.model.probetext import ping_line, ping_summary
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .connection import CallError, HelperConnection
from .live import LiveSession
from .plots import themed_plot

CURVE_COLORS = ["#1a73e8", "#e8710a", "#188038", "#a142f4", "#d93025", "#12b5cb"]
FOREVER = 100_000  # "until stopped": the helper's largest count


@dataclass
class PingRun:
    tag: str
    source: str
    target: str
    lines: list[str] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    rtts: list[float] = field(default_factory=list)
    errors: int = 0
    sent: int = 0
    running: bool = True
    curve: Any = None
    item: QListWidgetItem | None = None

    def title(self) -> str:
        received = len(self.rtts)
        loss = 100.0 * (1 - received / self.sent) if self.sent else 0.0
        state = "running" if self.running else "done"
        replies = f"{received}/{self.sent} replies, {loss:.0f}% loss"
        return f"{self.source} → {self.target}: {replies} ({state})"


class PingPanel(QWidget):
    run_changed = Signal(str)  # a run's tag, when its lines or plot changed

    def __init__(self, session: LiveSession, connection: HelperConnection) -> None:
        super().__init__()
        self.session, self.connection = session, connection
        self.runs: dict[str, PingRun] = {}
        self._tags = (f"ping-{n}" for n in itertools.count(1))
        self.count = QSpinBox()
        self.count.setRange(0, FOREVER)
        self.count.setValue(5)
        self.count.setSpecialValueText("until stopped")
        self.count.setPrefix("count ")
        self.interval = QSpinBox()
        self.interval.setRange(50, 60_000)
        self.interval.setValue(1000)
        self.interval.setSingleStep(100)
        self.interval.setSuffix(" ms")
        self.interval.setPrefix("every ")
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop_selected)
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.clicked.connect(self.clear_finished)
        self.hint = QLabel("Ping tool (P): click a source node, then a target node or the canvas.")
        self.list = QListWidget()
        self.list.currentItemChanged.connect(lambda *_: self._show_selected())
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        mono = QFont("DejaVu Sans Mono")
        mono.setPixelSize(11)
        self.text.setFont(mono)
        self.plot = themed_plot()
        self.plot.setLabel("left", "RTT", units="ms")
        self.plot.setLabel("bottom", "icmp_seq")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(-10, 10))
        controls = QHBoxLayout()
        for widget in (self.count, self.interval, self.stop_button, self.clear_button):
            controls.addWidget(widget)
        controls.addWidget(self.hint, 1)
        left = QWidget()
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addWidget(self.list, 1)
        left_column.addWidget(self.text, 2)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.plot)
        split.setSizes([420, 380])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(controls)
        layout.addWidget(split, 1)
        session.notification.connect(self._notified)
        self._show_selected()

    # -- starting and stopping ----------------------------------------------------------------
    def start(self, source: str, target: str, interface: str | None = None) -> str:
        """Ping `target` (a node or an address) from node `source`; returns the run's tag."""
        tag = next(self._tags)
        run = self.runs[tag] = PingRun(tag, source, target)
        color = CURVE_COLORS[(len(self.runs) - 1) % len(CURVE_COLORS)]
        run.curve = self.plot.plot(
            [], [], pen=pg.mkPen(color, width=2), symbol="o", symbolSize=5,
            symbolBrush=color, name=f"{source} → {target}",
        )  # fmt: skip
        run.item = QListWidgetItem()
        run.item.setData(Qt.ItemDataRole.UserRole, tag)
        run.item.setForeground(QColor(color))
        self.list.addItem(run.item)
        self.list.setCurrentItem(run.item)
        params = {
            "lab": self.session.lab,
            "source": source,
            "target": target,
            "interface": interface,
            "count": self.count.value() or FOREVER,
            "interval": self.interval.value() / 1000,
            "timeout": 1.0,
            "tag": tag,
        }
        self.connection.call(
            "ping.start",
            params,
            lambda done: self._finished(run, done),
            lambda error: self._failed(run, error),
            owner=self,
        )
        self._changed(run)
        return tag

    def stop_selected(self) -> None:
        item = self.list.currentItem()
        run = self.runs.get(item.data(Qt.ItemDataRole.UserRole)) if item else None
        if run is not None and run.running:
            self.connection.call("ping.stop", {"tag": run.tag})

    def stop_all(self) -> None:
        for run in self.runs.values():
            if run.running:
                self.connection.call("ping.stop", {"tag": run.tag})

    def clear_finished(self) -> None:
        for tag in [t for t, run in self.runs.items() if not run.running]:
            run = self.runs.pop(tag)
            self.plot.removeItem(run.curve)
            self.list.takeItem(self.list.row(run.item))
        self._show_selected()

    # -- results -------------------------------------------------------------------------------
    def _notified(self, method: str, params: Any) -> None:
        run = self.runs.get(params.get("tag")) if isinstance(params, dict) else None
        if run is None or not method.startswith("ping."):
            return
        line = ping_line(method, params, run.source)
        if line is not None:
            run.lines.append(line)
        if method == "ping.reply":
            run.seqs.append(params["seq"])
            run.rtts.append(params["rtt_ms"])
            run.sent = max(run.sent, params["seq"])
            run.curve.setData(run.seqs, run.rtts)
        elif method == "ping.error":
            run.errors += 1
            run.sent = max(run.sent, params["seq"])
        self._changed(run)

    def _finished(self, run: PingRun, done: dict[str, Any]) -> None:
        run.running = False
        run.sent = done["transmitted"]
        run.lines += ["", *ping_summary(done)]
        self._changed(run)

    def _failed(self, run: PingRun, error: CallError) -> None:
        run.running = False
        run.lines.append(f"ping: {error.message}")
        self._changed(run)

    def _changed(self, run: PingRun) -> None:
        if run.item is not None:
            run.item.setText(run.title())
        item = self.list.currentItem()
        if item is not None and item.data(Qt.ItemDataRole.UserRole) == run.tag:
            self._show_selected()
        self.run_changed.emit(run.tag)

    def _show_selected(self) -> None:
        item = self.list.currentItem()
        run = self.runs.get(item.data(Qt.ItemDataRole.UserRole)) if item else None
        self.text.setPlainText("\n".join(run.lines) if run else "")
        self.text.verticalScrollBar().setValue(self.text.verticalScrollBar().maximum())
        self.stop_button.setEnabled(run is not None and run.running)
