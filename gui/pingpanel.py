"""The Ping dock: pings started from the canvas (several at once), each with ping's own
lines, its loss (or, when nothing came back, what went wrong), and its round-trip
times in milliseconds on one shared plot. A run can be repeated from another source
interface (ping -I), as the bridge experiment needs. A ping that got no answer asks the
doctor (`host.doctor`) and shows beside it a finding about a node on its path (a
forward chain that drops on the host, forwarding off on a router, strict rp_filter)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pyqtgraph as pg
from nstopo.model.doctor import explains
from nstopo.model.live import interface_owners
from nstopo.model.placement import namespace_of_node
from nstopo.model.probetext import ping_line, ping_summary
from nstopo.model.reach import node_holding
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .connection import CallError, HelperConnection
from .live import LiveSession
from .plots import themed_plot

CURVE_COLORS = ["#1a73e8", "#e8710a", "#188038", "#a142f4", "#d93025", "#12b5cb"]
FOREVER = 100_000  # "until stopped": the helper's largest count
ANY = "any interface"


@dataclass
class PingRun:
    tag: str
    source: str
    target: str
    interface: str | None = None
    lines: list[str] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    rtts: list[float] = field(default_factory=list)
    errors: int = 0
    last_error: str | None = None  # the kernel's word for the latest failed echo
    failure: str | None = None  # why the ping could not run at all
    diagnosis: str | None = None  # the doctor's finding that may explain no answer
    sent: int = 0
    running: bool = True
    curve: Any = None
    item: QListWidgetItem | None = None

    def title(self) -> str:
        via = f" via {self.interface}" if self.interface else ""
        head = f"{self.source} → {self.target}{via}"
        if self.failure:
            return f"{head}: {self.failure}"
        received = len(self.rtts)
        if not self.sent and self.running:
            return f"{head}: starting…"
        loss = 100.0 * (1 - received / self.sent) if self.sent else 0.0
        state = "running" if self.running else "done"
        replies = f"{received}/{self.sent} replies, {loss:.0f}% loss"
        doctor = f" · doctor: {self.diagnosis}" if self.diagnosis else ""
        if not received and self.last_error:  # say what happened, not only "0 replies"
            return f"{head}: {self.last_error} ({replies}, {state}){doctor}"
        return f"{head}: {replies} ({state}){doctor}"


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
        self.stop_button = _tool_button("Stop")
        self.stop_button.clicked.connect(self.stop_selected)
        self.clear_button = _tool_button("Clear finished")
        self.clear_button.clicked.connect(self.clear_finished)
        self.interface = QComboBox()
        self.interface.setToolTip(
            "The source interface of “Ping again” (ping -I): the interfaces of the selected "
            "ping's source node"
        )
        self.again_button = _tool_button("Ping again")
        self.again_button.setToolTip("Repeat the selected ping, from the interface chosen beside")
        self.again_button.clicked.connect(self.again)
        self.hint = QLabel("Ping tool (P): click a source node, then a target node or the canvas.")
        self.list = QListWidget()
        self.list.currentItemChanged.connect(lambda *_: self._show_selected())
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        mono = QFont("DejaVu Sans Mono")
        mono.setPixelSize(11)
        self.text.setFont(mono)
        self.plot = themed_plot()
        # The values are milliseconds already: no SI prefix (it made "RTT (mms)" and
        # scaled sub-millisecond times by 1000).
        self.plot.setLabel("left", "RTT (ms)")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setLabel("bottom", "icmp_seq")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        # No legend: it covered the curves; the list beside names each run in its color.
        controls = QHBoxLayout()  # two short rows: the dock fits beside the capture on 1024 px
        for widget in (self.count, self.interval, self.stop_button, self.clear_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        repeat = QHBoxLayout()
        repeat.addWidget(self.interface, 1)
        repeat.addWidget(self.again_button)
        repeat.addStretch(1)
        self.hint.setWordWrap(True)
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
        layout.addLayout(repeat)
        layout.addWidget(self.hint)
        layout.addWidget(split, 1)
        session.notification.connect(self._notified)
        self._show_selected()

    # -- starting and stopping ----------------------------------------------------------------
    def start(self, source: str, target: str, interface: str | None = None) -> str:
        """Ping `target` (a node or an address) from node `source`; returns the run's tag."""
        tag = next(self._tags)
        run = self.runs[tag] = PingRun(tag, source, target, interface)
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
        if not (self.session.running and self.session.connected):
            why = "no helper connected" if not self.session.connected else "no running lab"
            run.running = False
            run.failure = f"{why} (deploy “{self.session.lab}” first)"
            run.lines.append(f"ping: {run.failure}")
            self._changed(run)
            return tag
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

    def selected(self) -> PingRun | None:
        item = self.list.currentItem()
        return self.runs.get(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def again(self) -> str | None:
        """The selected ping once more, from the chosen source interface."""
        run = self.selected()
        if run is None:
            return None
        chosen = self.interface.currentText()
        return self.start(run.source, run.target, None if chosen == ANY else chosen)

    def interfaces_of(self, node: str) -> list[str]:
        """The interfaces in the namespace a ping from `node` starts in."""
        topo = self.session.doc.topology
        if node not in topo:
            return []
        where = namespace_of_node(topo.get_node, node)
        return sorted(name for ns, name in interface_owners(topo) if ns == where)

    def stop_selected(self) -> None:
        run = self.selected()
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
            run.last_error = params["message"]
            run.sent = max(run.sent, params["seq"])
        self._changed(run)

    def _finished(self, run: PingRun, done: dict[str, Any]) -> None:
        run.running = False
        run.sent = done["transmitted"]
        run.lines += ["", *ping_summary(done)]
        self._changed(run)
        if run.sent and not run.rtts:
            self.connection.call("host.doctor", None, lambda found: self._diagnosed(run, found),
                                 owner=self)  # fmt: skip

    def _diagnosed(self, run: PingRun, answer: dict[str, Any]) -> None:
        """The doctor's findings about this ping's nodes, beside it."""
        lab = self.session.lab
        target = self._node_of(run.target)
        found = [f for f in answer["findings"] if explains(f, lab, run.source, target)]
        if not found:
            return
        run.diagnosis = found[0]["title"]
        run.lines.append("")
        for finding in found:
            run.lines += [f"doctor: {finding['title']}", f"  {finding['breaks']}", "  fix:"]
            run.lines += [f"    {line}" for line in finding["fix"].splitlines()]
        self._changed(run)

    def _failed(self, run: PingRun, error: CallError) -> None:
        run.running = False
        run.failure = error.message
        run.lines.append(f"ping: {error.message}")
        self._changed(run)

    def _node_of(self, target: str) -> str:
        return node_holding(self.session.doc.topology, target)

    def _changed(self, run: PingRun) -> None:
        if run.item is not None:
            run.item.setText(run.title())
        item = self.list.currentItem()
        if item is not None and item.data(Qt.ItemDataRole.UserRole) == run.tag:
            self._show_selected()
        self.run_changed.emit(run.tag)

    def _show_selected(self) -> None:
        run = self.selected()
        self.text.setPlainText("\n".join(run.lines) if run else "")
        self.text.verticalScrollBar().setValue(self.text.verticalScrollBar().maximum())
        self.stop_button.setEnabled(run is not None and run.running)
        self.again_button.setEnabled(run is not None)
        choices = [ANY, *(self.interfaces_of(run.source) if run else [])]
        if [self.interface.itemText(i) for i in range(self.interface.count())] != choices:
            keep = self.interface.currentText()
            self.interface.clear()
            self.interface.addItems(choices)
            self.interface.setCurrentText(keep if keep in choices else ANY)


def _tool_button(text: str) -> QToolButton:
    """A button as wide as its word: the dock stays narrow enough for small screens."""
    button = QToolButton()
    button.setText(text)
    return button
