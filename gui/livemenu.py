"""The canvas's context menu: ping from a node, capture on an interface or link end,
rates of an interface, a bridge's forwarding database (live actions need a running
lab; they are listed but disabled before a deploy, saying why)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from nstopo.model.live import interface_key
from nstopo.model.types import BridgeNode, TapNode, TunNode
from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from .mainwindow import MainWindow

Where = tuple[str, str | None]  # (node, interface or None for the device itself)


def capture_places(window: MainWindow, kind: str, key: str) -> list[Where]:
    """The interfaces a right-click on this node or link can capture on."""
    topo = window.doc.topology
    if kind == "link":
        return [(ep.node, ep.interface) for ep in topo.link(key).endpoints]
    places: list[Where] = []
    if isinstance(topo.node(key), BridgeNode | TapNode | TunNode):
        places.append((key, None))
    for _, link in topo.links():
        places += [(ep.node, ep.interface) for ep in link.endpoints if ep.node == key]
    return places


def live_menu(window: MainWindow, kind: str, key: str) -> QMenu:
    menu = QMenu(window)
    running = window.live is not None and window.live.running and window.live.connected
    why = "" if running else " (deploy the lab first)"

    def add(text: str, slot: Callable[[], object], enabled: bool = True) -> None:
        action = menu.addAction(text + ("" if enabled else why))
        action.triggered.connect(slot)
        action.setEnabled(enabled)

    topo = window.doc.topology
    if kind == "node":
        add(f"Ping from {key}…", lambda: window.start_ping_tool(key), running)
    places = capture_places(window, kind, key)
    for node, interface in places:
        label = f"{node}:{interface}" if interface else node
        add(f"Capture on {label}", lambda n=node, i=interface: window.capture(n, i), running)
    if kind == "link" and len(places) == 2:

        def both() -> None:
            for node, interface in places:
                window.capture(node, interface)

        add("Capture on both ends", both, running)
    menu.addSeparator()
    for node, interface in places:
        label = f"{node}:{interface}" if interface else node
        shown = interface_key(topo, node, interface)
        add(f"Rates of {label}", lambda k=shown: window.show_rates(k), running)
    if kind == "node" and isinstance(topo.node(key), BridgeNode):
        menu.addSeparator()
        add(f"Forwarding database of {key}…", lambda: window.show_fdb(key), running)
    return menu
