"""Screenshots of the editor for the README (offscreen; no display needed).

.venv/bin/python scripts/screenshots.py [OUT_DIR]     (default: docs/screenshots)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.model.topology import Topology
from nstopo.model.types import BridgeNode, Endpoint, Link, NetnsNode
from nstopo.resources import EXAMPLES
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


def hundred_nodes() -> Topology:
    """Ten bridges in a core namespace, each with nine namespaces: 100 nodes, 99 links."""
    topo = Topology("campus", "10.60.0.0/16")
    topo.add_node("core", NetnsNode(sysctls={"net.ipv4.ip_forward": 1}))
    for b in range(9):
        bridge = f"br{b}"
        topo.add_node(bridge, BridgeNode(namespace="core", addresses=(f"10.60.{b}.1/24",)))
        for h in range(10):
            name = f"h{b}-{h}"
            topo.add_node(name, NetnsNode())
            port = Endpoint(bridge, f"p{b}-{h}")
            topo.add_link(Link((Endpoint(name, "eth0", (f"10.60.{b}.{h + 2}/24",)), port)))
    return topo


def dark_palette() -> QPalette:
    """A dark desktop, as Fusion's dark colors are."""
    palette = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, "#2b2b2b"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
        (QPalette.ColorRole.Base, "#1f1f1f"),
        (QPalette.ColorRole.AlternateBase, "#2b2b2b"),
        (QPalette.ColorRole.Text, "#e8eaed"),
        (QPalette.ColorRole.Button, "#353535"),
        (QPalette.ColorRole.ButtonText, "#e8eaed"),
        (QPalette.ColorRole.Highlight, "#4fa3ff"),
        (QPalette.ColorRole.HighlightedText, "#000000"),
        (QPalette.ColorRole.PlaceholderText, "#8a8f98"),  # field hints, as dark themes set
    ):
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7f7f7f"))
    return palette


def shoot(window: MainWindow, path: Path) -> None:
    window.resize(1500, 920)
    window.show()
    app = QApplication.instance()
    assert app is not None
    for _ in range(5):
        app.processEvents()
    window.view.fit()
    app.processEvents()
    window.grab().save(str(path))
    print(f"wrote {path}")


def main(out: Path) -> None:
    QApplication.instance() or QApplication(sys.argv[:1])
    out.mkdir(parents=True, exist_ok=True)
    bridge = MainWindow(Document.open(EXAMPLES / "bridge-pitfall.yaml"))
    bridge.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    bridge.scene.select(["br0"])
    # The Problems tab in front (opening raises About this lab): the README points at
    # the enslaved port's warning in this picture.
    bridge._docks["Problems"].raise_()
    shoot(bridge, out / "editor-bridge-lab.png")
    # The same lab with the desktop in dark mode.
    app = QApplication.instance()
    light = app.palette()
    app.setPalette(dark_palette())
    bridge.scene.select(["a"])
    shoot(bridge, out / "editor-dark.png")
    app.setPalette(light)
    big = MainWindow(Document(hundred_nodes()))
    big.editing.layout_all()
    big.scene.select([], [])
    shoot(big, out / "editor-100-nodes.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
