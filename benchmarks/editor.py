"""Editor figures (offscreen): open a 500-node, 600-link file to the first fully painted
frame; repaint per mouse move while dragging a node with 20 links (real mouse events
through the view); memory with that document open.

    .venv/bin/python benchmarks/editor.py
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.model.layout import auto_layout
from nstopo.model.topology import Topology
from nstopo.model.types import BridgeNode, Endpoint, Link, NetnsNode, replace
from nstopo.model.yamlfile import save
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget


def big_lab() -> Topology:
    """500 nodes, 600 links: 25 bridges in a core namespace, 474 namespaces on them,
    and 126 more links between namespaces; one namespace ("hot") has 20 links."""
    topo = Topology("big", "10.0.0.0/8")
    topo.add_node("core", NetnsNode())
    for b in range(25):
        topo.add_node(f"br{b}", BridgeNode(namespace="core", addresses=(f"10.{b}.0.1/16",)))
    names = [f"n{i}" for i in range(474)]
    for i, name in enumerate(names):
        topo.add_node(name, NetnsNode())
        b = i % 25
        topo.add_link(
            Link(
                (
                    Endpoint(name, "eth0", (f"10.{b}.{i // 250}.{2 + i % 250}/16",)),
                    Endpoint(f"br{b}", f"p{i}"),
                )
            )
        )
    for j in range(126):
        a, z = ("n0", names[1 + j]) if j < 20 else (names[j], names[j + 200])
        topo.add_link(Link((Endpoint(a, f"x{j}"), Endpoint(z, f"y{j}"))))
    for name, position in auto_layout(topo).items():
        topo.set_node(name, replace(topo.node(name), position=position))
    return topo


def send(widget: QWidget, kind: QEvent.Type, at: QPointF, button: Qt.MouseButton) -> None:
    held = Qt.MouseButton.LeftButton  # the button stays down from press to release
    buttons = held if kind != QEvent.Type.MouseButtonRelease else Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind, at, widget.mapToGlobal(at), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    topo = big_lab()
    assert len(topo) == 500 and len(topo.link_ids()) == 600
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        save(topo, path)
        start = time.perf_counter()
        window = MainWindow(Document.open(path))
        window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
        window.resize(1500, 920)
        window.show()
        app.processEvents()
        window.view.viewport().repaint()  # the first fully painted frame
        opened = time.perf_counter() - start
        hot = window.scene.nodes["n0"]
        assert len(hot.links) >= 20
        window.view.resetTransform()
        window.view.centerOn(hot)
        app.processEvents()
        # A real drag through the view: press on the node, move the mouse, release.
        viewport = window.view.viewport()
        at = QPointF(window.view.mapFromScene(hot.pos()))
        send(viewport, QEvent.Type.MouseButtonPress, at, Qt.MouseButton.LeftButton)
        app.processEvents()
        times = []
        for step in range(60):
            at += QPointF(3 if step % 2 else -3, 2)
            t0 = time.perf_counter()
            send(viewport, QEvent.Type.MouseMove, at, Qt.MouseButton.NoButton)
            app.processEvents()  # the view repaints what the move changed
            times.append((time.perf_counter() - t0) * 1000)
        send(viewport, QEvent.Type.MouseButtonRelease, at, Qt.MouseButton.LeftButton)
        app.processEvents()
        assert window.doc.undo.count() == 1, "the drag did not move the node"
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"open 500 nodes / 600 links to the first painted frame: {opened:.2f} s (target 1 s)")
        print(
            f"drag a node with {len(hot.links)} links: repaint median "
            f"{statistics.median(times):.1f} ms, p95 {statistics.quantiles(times, n=20)[18]:.1f}"
            " ms (target 16 ms)"
        )
        print(f"peak memory with the document open: {rss:.0f} MB (target 300 MB)")


if __name__ == "__main__":
    main()
