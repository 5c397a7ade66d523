"""The canvas's context menu: ping from a node, capture on an interface or link end,
rates of an interface, a bridge's forwarding database, what the kernel holds in a
namespace (routes, rules, neighbours, firewall) (live actions need a running
lab; they are listed but disabled before a deploy, saying why)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from nstopo.model.live import InterfaceKey, interface_key
from nstopo.model.topology import Topology
from nstopo.model.types import BridgeNode, HostNode, NetnsNode, TapNode, TunNode
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from .terminaldock import add_terminal_items

Where = tuple[str, str | None]  # (node, interface or None for the device itself)


class LiveCommands(Protocol):
    """What the menu's items do (the live controller)."""

    @property
    def topology(self) -> Topology: ...
    @property
    def running(self) -> bool: ...
    def start_ping_tool(self, source: str | None = None) -> None: ...
    def capture(self, node: str, interface: str | None) -> None: ...
    def show_rates(self, key: InterfaceKey) -> None: ...
    def show_fdb(self, bridge: str) -> object: ...
    def show_kernel(self, node: str) -> object: ...


def on_trigger(action: QAction, slot: Callable[[], object]) -> None:
    """Run `slot()` when the action is triggered. QAction.triggered passes `checked`,
    which a lambda with default arguments would take as its first one."""
    action.triggered.connect(lambda _checked=False: slot())


def capture_places(topo: Topology, kind: str, key: str) -> list[Where]:
    """The interfaces a right-click on this node or link can capture on."""
    if kind == "link":
        return [(ep.node, ep.interface) for ep in topo.link(key).endpoints]
    places: list[Where] = []
    if isinstance(topo.node(key), BridgeNode | TapNode | TunNode):
        places.append((key, None))
    for _, link in topo.links():
        places += [(ep.node, ep.interface) for ep in link.endpoints if ep.node == key]
    return places


def live_menu(
    live: LiveCommands, parent: QWidget, kind: str, key: str, menu: QMenu | None = None
) -> QMenu:
    """The live items for a node or a link, added to `menu` (a new one without it)."""
    menu = menu if menu is not None else QMenu(parent)
    running = live.running
    why = "" if running else " (deploy the lab first)"

    def add(text: str, slot: Callable[[], object], enabled: bool = True) -> None:
        action = menu.addAction(text + ("" if enabled else why))
        on_trigger(action, slot)
        action.setEnabled(enabled)

    topo = live.topology
    if kind == "node":
        add(f"Ping from {key}…", lambda: live.start_ping_tool(key), running)
    places = capture_places(topo, kind, key)
    for node, interface in places:
        label = f"{node}:{interface}" if interface else node
        add(f"Capture on {label}", lambda n=node, i=interface: live.capture(n, i), running)
    if kind == "link" and len(places) == 2:

        def both() -> None:
            for node, interface in places:
                live.capture(node, interface)

        add("Capture on both ends", both, running)
    menu.addSeparator()
    for node, interface in places:
        label = f"{node}:{interface}" if interface else node
        shown = interface_key(topo, node, interface)
        add(f"Rates of {label}", lambda k=shown: live.show_rates(k), running)
    if kind == "node" and isinstance(topo.node(key), BridgeNode):
        menu.addSeparator()
        add(f"Forwarding database of {key}…", lambda: live.show_fdb(key), running)
    if kind == "node" and isinstance(topo.node(key), NetnsNode | HostNode):
        menu.addSeparator()
        add(f"Routes, rules, neighbours, firewall of {key}…",
            lambda: live.show_kernel(key), running)  # fmt: skip
    if kind == "node":
        menu.addSeparator()
        add_terminal_items(add, getattr(live, "terminals", None), topo, key, running)
    return menu
