"""The Rates dock: received and sent bits per second of one interface of the running
lab, from the helper's counters (one sample a second, the last two minutes kept for
every interface so switching shows history at once)."""

from __future__ import annotations

from collections import deque
from typing import Any

import pyqtgraph as pg
from nstopo.model.live import InterfaceKey, LinkEnd, NodeDevice
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .live import LiveSession
from .plots import themed_plot

HISTORY = 120  # samples per interface


class RatesPanel(QWidget):
    def __init__(self, session: LiveSession) -> None:
        super().__init__()
        self.session = session
        self.history: dict[InterfaceKey, deque[tuple[float, float, float]]] = {}
        self._last: dict[InterfaceKey, tuple[float, int, int]] = {}
        self.keys: list[InterfaceKey] = []  # the combo box's entries, in order
        self.choice = QComboBox()
        self.choice.currentIndexChanged.connect(lambda _: self._draw())
        self.now = QLabel()
        self.plot = themed_plot()
        self.plot.setLabel("left", "rate", units="bit/s")
        self.plot.setLabel("bottom", "seconds ago")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(-10, 10))
        self.rx = self.plot.plot([], [], pen=pg.mkPen("#1a73e8", width=2), name="rx")
        self.tx = self.plot.plot([], [], pen=pg.mkPen("#e8710a", width=2), name="tx")
        top = QHBoxLayout()
        top.addWidget(QLabel("Interface:"))
        top.addWidget(self.choice, 1)
        top.addWidget(self.now)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        session.counters.connect(self._sample)
        session.changed.connect(self._list_interfaces)
        self._list_interfaces()

    def label(self, key: InterfaceKey) -> str:
        owner = self.session.owners.get(key)
        topo = self.session.doc.topology
        if isinstance(owner, LinkEnd) and topo.has_link(owner.link_id):
            return topo.link(owner.link_id).endpoints[owner.end].short
        if isinstance(owner, NodeDevice):
            return owner.node
        return f"{key[0] or 'host'}/{key[1]}"

    def current(self) -> InterfaceKey | None:
        index = self.choice.currentIndex()
        return self.keys[index] if 0 <= index < len(self.keys) else None

    def show_interface(self, key: InterfaceKey) -> None:
        if key in self.keys:
            self.choice.setCurrentIndex(self.keys.index(key))

    def follow_selection(self, kind: str, key: str) -> None:
        """A link or a bridge/tap/tun selected on the canvas: show its rates."""
        for interface, owner in self.session.owners.items():
            mine = (isinstance(owner, LinkEnd) and kind == "link" and owner.link_id == key) or (
                isinstance(owner, NodeDevice) and kind == "node" and owner.node == key
            )
            if mine:
                self.show_interface(interface)
                return

    def _list_interfaces(self) -> None:
        keys = sorted(self.session.owners, key=self.label)
        if keys == self.keys:
            return
        current = self.current()
        self.keys = keys
        self.choice.blockSignals(True)
        self.choice.clear()
        self.choice.addItems([self.label(key) for key in keys])
        self.choice.blockSignals(False)
        if current in keys:
            self.show_interface(current)
        self._draw()

    def _sample(self, at: float, interfaces: list[dict[str, Any]]) -> None:
        for sample in interfaces:
            key = (sample["namespace"], sample["name"])
            last = self._last.get(key)
            self._last[key] = (at, sample["rx_bytes"], sample["tx_bytes"])
            if last is None or at <= last[0]:
                continue
            span = at - last[0]
            rx = max(sample["rx_bytes"] - last[1], 0) * 8 / span
            tx = max(sample["tx_bytes"] - last[2], 0) * 8 / span
            self.history.setdefault(key, deque(maxlen=HISTORY)).append((at, rx, tx))
        self._draw()

    def _draw(self) -> None:
        key = self.current()
        points = list(self.history.get(key, ())) if key is not None else []
        if not points:
            self.rx.setData([], [])
            self.tx.setData([], [])
            self.now.setText("")
            return
        newest = points[-1][0]
        ago = [t - newest for t, _, _ in points]
        self.rx.setData(ago, [rx for _, rx, _ in points])
        self.tx.setData(ago, [tx for _, _, tx in points])
        top = max(max(rx, tx) for _, rx, tx in points)
        self.plot.setYRange(0, max(top * 1.15, 1000.0))  # from zero: a rate's size reads true
        _, rx, tx = points[-1]
        rate = lambda value: pg.siFormat(value, suffix="bit/s")  # noqa: E731
        self.now.setText(f"rx {rate(rx)}  tx {rate(tx)}")
