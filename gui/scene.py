"""The canvas model-view: item <-> node/link maps, kept in step with the document's
signals. Interactions become undo commands; items never change the model."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from nstopo.model.edit import IllegalLink, new_link, new_node_name, node_problem
from nstopo.model.live import InterfaceKey, interface_key
from nstopo.model.placement import namespace_of_node
from nstopo.model.topology import ChangeSet
from nstopo.model.types import Endpoint, HostNode, NetnsNode, TapNode, TunNode, new_node
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QGraphicsScene,
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneMouseEvent,
)

from .commands import AddLink, AddNode, MoveNodes
from .document import Document
from .items import LinkItem, MemberItem, NodeItem
from .linklayer import LinkLayer
from .netemform import canvas_label as netem_label
from .theme import GRID, Theme, current_theme
from .tools import Gesture, LinkTool, PingTool, SelectTool

Mark = tuple[str, bool]  # a problem's message, and whether it is an error
LiveAddresses = Callable[[InterfaceKey], tuple[str, ...] | None]


def snap(point: QPointF) -> tuple[float, float]:
    return (round(point.x() / GRID) * GRID, round(point.y() / GRID) * GRID)


class EditorScene(QGraphicsScene):
    message = Signal(str, QPointF)  # something to tell the user, at a place
    ping_requested = Signal(str, str)  # source node, target node (the ping tool)
    ping_address_wanted = Signal(str, QPointF)  # source node; the target is not a node
    ping_check_requested = Signal(str, str)  # source, target node ("": ask an address)
    context_requested = Signal(str, str, QPoint)  # "node"/"link"/"canvas", key, screen position
    rethemed = Signal()  # every item was made again (in another theme)
    tool_cancelled = Signal()  # Esc: the select tool again

    def __init__(self, doc: Document) -> None:
        super().__init__()
        self.doc = doc
        self.theme = current_theme()
        self.nodes: dict[str, NodeItem] = {}
        self.links: dict[str, LinkItem] = {}
        self.tool: SelectTool = SelectTool(self)  # what a left click means
        self._gesture: Gesture | None = None  # the press-drag-release going on
        self._press_positions: dict[str, QPointF] = {}
        self._members: dict[str, MemberItem] = {}  # device -> its line to its namespace
        self._ends: dict[str, list[Endpoint]] = {}
        self._residents: dict[str | None, list[tuple[str, str]]] = {}
        self._homes: dict[str, str | None] = {}  # device -> the namespace whose box lists it
        self._live_addresses: LiveAddresses | None = None
        # Namespace names other running labs hold (the window knows them: Labs dock).
        self.names_in_use: Callable[[], Collection[str]] = frozenset
        self.setBackgroundBrush(self.theme.background)
        doc.edited.connect(self.follow)
        doc.problemsChanged.connect(self.show_problems)
        self.rebuild()

    def set_live_addresses(self, source: LiveAddresses | None) -> None:
        """Where namespace boxes read the kernel's addresses while a lab runs (None:
        the document's)."""
        self._live_addresses = source

    def set_theme(self, theme: Theme) -> None:
        """The desktop switched between light and dark: draw everything again in it."""
        if theme == self.theme:
            return
        self.theme = theme
        self.setBackgroundBrush(theme.background)
        selected = self.selected_names()
        self.rebuild()
        self.select(*selected)
        self.rethemed.emit()

    # -- following the model --------------------------------------------------------------
    def rebuild(self) -> None:
        self.clear()  # deletes every item, membership lines and the link layer included
        self.nodes.clear()
        self.links.clear()
        self._members = {}
        self.layer = LinkLayer(self.theme)
        self.addItem(self.layer)
        self.addItem(self.layer.above)
        for index, (name, _) in enumerate(self.doc.topology.nodes()):
            self._node_added(name, index)
        for lid in self.doc.topology.link_ids():
            self._link_added(lid, spread=False)  # lanes once, below: not per link
        by_pair: dict[frozenset[str], list[LinkItem]] = {}
        for item in self.links.values():
            by_pair.setdefault(frozenset((item.a.name, item.b.name)), []).append(item)
        for same in by_pair.values():
            if len(same) > 1:
                self._set_lanes(same)
        self.refresh_text()

    def follow(self, changes: ChangeSet) -> None:
        """One command's changes: only the items it names (and the boxes that list
        them) are touched, once each."""
        topo = self.doc.topology
        boxes: set[str] = set()  # nodes whose text may read differently now
        links: set[str] = set()
        members = False  # a device was added, removed, renamed or moved between namespaces
        for change in changes:
            kind, key = change.kind, change.key
            if kind == "node-added":
                self._node_added(key)
                boxes.add(key)
                members = True
            elif kind == "node-removed":
                self._node_removed(key)
                members = True
            elif kind == "node-changed":
                self._node_changed(key)
                if change.fields - {"position"}:
                    boxes.add(key)
                    members = members or bool(change.fields & {"namespace", "kind"})
            elif kind == "node-renamed":
                self._node_renamed(change.old_key, key)
                boxes.add(key)
                boxes.update(
                    e.node for lid in topo.link_ids_of(key) for e in topo.link(lid).endpoints
                )
                members = True
            elif kind in ("link-added", "link-removed", "link-changed"):
                old = self.links.get(key)
                if old is not None:
                    boxes.update((old.a.name, old.b.name))
                if kind == "link-removed":
                    self._link_removed(key)
                    continue
                if kind == "link-changed":
                    self._link_removed(key)
                item = self._link_added(key)
                boxes.update((item.a.name, item.b.name))
                links.add(key)
        if changes.positions_only:
            return
        homes_before = self._homes
        self._index_topology()
        for name in list(boxes):  # a device's box and the namespace boxes listing it
            boxes.update((homes_before.get(name, ""), self._homes.get(name, "")))
        for name in boxes:
            item = self.nodes.get(name)
            if item is not None and name in topo:
                self._show_text(name, item, item.problem)
        for lid in links:
            item = self.links.get(lid)
            if item is not None:
                self._show_link_text(lid, item, item.problem)
        if members:
            self._draw_membership()

    def _node_added(self, name: str, index: int | None = None) -> None:
        value = self.doc.topology.node(name)
        item = self.nodes.get(name)
        if item is None:
            item = self.nodes[name] = NodeItem(name, value.kind, self.theme)
            item.foreign = name in self.doc.foreign_nodes
            self.addItem(item)
        if value.position is not None:
            item.setPos(QPointF(*value.position))
        else:  # files without positions: a tidy grid until auto-layout
            slot = len(self.nodes) - 1 if index is None else index
            item.setPos(QPointF((slot % 6) * 240.0, (slot // 6) * 180.0))

    def _node_removed(self, name: str) -> None:
        item = self.nodes.pop(name, None)
        if item is not None:
            for link in list(item.links):
                self._link_removed(link.link_id)
            self.removeItem(item)

    def _node_changed(self, name: str) -> None:
        item, value = self.nodes.get(name), self.doc.topology.node(name)
        if item is None:
            return self._node_added(name)
        if value.kind != item.kind:  # another kind of device: drawn anew
            self._node_removed(name)
            self._node_added(name)
            for lid in self.doc.topology.link_ids_of(name):
                self._link_added(lid)
            return None
        if value.position is not None and (item.pos().x(), item.pos().y()) != value.position:
            item.setPos(QPointF(*value.position))
        return None

    def _node_renamed(self, old: str, new: str) -> None:
        item = self.nodes.pop(old, None)
        if item is not None:
            self.nodes[new] = item
            item.rename(new)
        if old in self._members:
            self._members[new] = self._members.pop(old)

    def _link_added(self, lid: str, spread: bool = True) -> LinkItem:
        if lid in self.links:
            return self.links[lid]
        a, b = (ep.node for ep in self.doc.topology.link(lid).endpoints)
        item = self.links[lid] = LinkItem(lid, self.nodes[a], self.nodes[b], self.theme)
        item.foreign = lid in self.doc.foreign_links
        self.addItem(item)
        self.layer.add(item)
        if spread:
            self._spread(a, b)
        return item

    def _link_removed(self, lid: str) -> None:
        item = self.links.pop(lid, None)
        if item is not None:
            item.detach()
            self.layer.remove(item)
            self.removeItem(item)
            self._spread(item.a.name, item.b.name)

    def _spread(self, a: str, b: str) -> None:
        """Links between the same two nodes bend apart, so none hides another."""
        pair = {a, b}
        node = self.nodes.get(a)
        candidates = node.links if node is not None else self.links.values()
        self._set_lanes([item for item in candidates if {item.a.name, item.b.name} == pair])

    def _set_lanes(self, same: list[LinkItem]) -> None:
        order = self.doc.topology.link_ids()
        ordered = sorted(same, key=lambda item: order.index(item.link_id))  # document order
        for i, item in enumerate(ordered):
            lane = 0 if len(ordered) == 1 else (i - (len(ordered) - 1) / 2)
            if lane != item.lane:
                item.lane = lane
                item.follow()

    def refresh_text(self) -> None:
        """Every item's interface lists, subtitles and problem marks, from the model."""
        self._index_topology()
        node_problems, link_problems = self._problem_marks()
        for name, item in self.nodes.items():
            if name in self.doc.topology:
                self._show_text(name, item, node_problems.get(name))
        for lid, item in self.links.items():
            self._show_link_text(lid, item, link_problems.get(lid))
        self._draw_membership()

    def show_problems(self) -> None:
        """The validation changed: re-mark only the items whose mark is different."""
        node_problems, link_problems = self._problem_marks()
        for name, item in self.nodes.items():
            mark = node_problems.get(name)
            if mark != item.problem:
                item.show_state(item.lines, item.subtitle, mark)
        for lid, item in self.links.items():
            mark = link_problems.get(lid)
            if mark != item.problem:
                item.show_state(item.labels, item.down, mark)

    def _problem_marks(self) -> tuple[dict[str, Mark], dict[str, Mark]]:
        node_problems: dict[str, Mark] = {}
        link_problems: dict[str, Mark] = {}
        ids = self.doc.topology.link_ids()
        # Errors first, so an error wins over a warning on the same item.
        for problem in sorted(self.doc.problems(), key=lambda p: not p.is_error):
            if len(problem.path) < 2:
                continue
            mark = (problem.message, problem.is_error)
            if problem.path[0] == "nodes":
                node_problems.setdefault(str(problem.path[1]), mark)
            elif problem.path[0] == "links" and int(problem.path[1]) < len(ids):
                link_problems.setdefault(ids[int(problem.path[1])], mark)
        return node_problems, link_problems

    def _show_text(self, name: str, item: NodeItem, problem: Mark | None) -> None:
        lines, subtitle = self._describe(name)
        if (lines, subtitle, problem) != (item.lines, item.subtitle, item.problem):
            item.show_state(lines, subtitle, problem)

    def _show_link_text(self, lid: str, item: LinkItem, problem: Mark | None) -> None:
        link = self.doc.topology.link(lid)
        labels = tuple(self._end_label(ep) for ep in link.endpoints)
        down = link.state == "down"
        if (labels, down, problem) != (item.labels, item.down, item.problem):
            item.show_state(labels, down, problem)  # type: ignore[arg-type]
        item.show_impairment(netem_label(link))

    def refresh_node_text(self, name: str) -> None:
        """One namespace box's lines again (live addresses changed)."""
        item = self.nodes.get(name)
        if item is not None and name in self.doc.topology:
            lines, subtitle = self._describe(name)
            if (lines, subtitle) != (item.lines, item.subtitle):
                item.show_state(lines, subtitle, item.problem)

    def _end_label(self, ep) -> str:
        """An end's interface name; its address too when no namespace box lists it."""
        on_box = isinstance(self.doc.topology.node(ep.node), NetnsNode | HostNode)
        return ep.interface if on_box or not ep.addresses else f"{ep.interface} {ep.addresses[0]}"

    def _draw_membership(self) -> None:
        """A dotted line from each bridge/tap/tun to the namespace it lives in (lines
        whose two ends are unchanged stay as they are)."""
        wanted: dict[str, str] = {}
        for name, value in self.doc.topology.nodes():
            home = getattr(value, "namespace", None)
            if home and home in self.nodes and name in self.nodes:
                wanted[name] = home
        for name, line in list(self._members.items()):
            if wanted.get(name) != line.b.name or self.nodes.get(name) is not line.a:
                line.detach()
                self.removeItem(line)
                del self._members[name]
        for name, home in wanted.items():
            if name not in self._members:
                line = MemberItem(self.nodes[name], self.nodes[home], self.theme)
                self.addItem(line)
                self._members[name] = line

    def _index_topology(self) -> None:
        """One pass over the links and nodes, so describing each node is cheap."""
        topo = self.doc.topology
        self._ends = {}
        for _, link in topo.links():
            for ep in link.endpoints:
                self._ends.setdefault(ep.node, []).append(ep)
        self._residents = {}
        self._homes = {}
        for other, device in topo.nodes():
            if getattr(device, "namespace", None) is not None:
                home = namespace_of_node(topo.get_node, other)
                self._residents.setdefault(home, []).append((other, device.kind))
                self._homes[other] = home

    def content_rect(self) -> QRectF:
        """What is drawn: nodes and links (the link layer's bounds only ever grow)."""
        rect = QRectF()
        for item in [*self.nodes.values(), *self.links.values()]:
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def line_keys(self, name: str) -> list[InterfaceKey]:
        """The interface each line of a namespace box stands for (as `_describe` lists
        them), so live mode can put a state dot on each."""
        topo = self.doc.topology
        ns = namespace_of_node(topo.get_node, name)
        keys = [interface_key(topo, name, ep.interface) for ep in self._ends.get(name, [])]
        keys += [interface_key(topo, other) for other, _ in self._residents.get(ns, [])]
        if isinstance(topo.node(name), NetnsNode):
            keys.append((ns, "lo"))  # the "lo" line: its dot shows the kernel's state
        return keys

    def _addresses(self, ns: str | None, ep) -> tuple[str, ...]:
        """The document's addresses, or the kernel's while a running lab is shown."""
        source = self._live_addresses
        live = source((ns, ep.interface)) if source is not None else None
        return ep.addresses if live is None else live

    def _describe(self, name: str) -> tuple[list[str], str]:
        topo = self.doc.topology
        value = topo.node(name)
        if isinstance(value, NetnsNode | HostNode):
            ns = namespace_of_node(topo.get_node, name)
            lines = [
                f"{ep.interface:<7} {', '.join(self._addresses(ns, ep)) or '—'}"
                for ep in self._ends.get(name, [])
            ]
            # Bridges and taps living here.
            lines += [f"{other:<7} {kind}" for other, kind in self._residents.get(ns, [])]
            if isinstance(value, NetnsNode):
                lines.append(f"{'lo':<7} {value.loopback}")
                if str(value.sysctls.get("net.ipv4.ip_forward", "0")) == "1":
                    lines.append("forwarding on")
            return lines, ""
        parts = list(value.addresses)
        if isinstance(value, TapNode | TunNode) and value.bridge:
            parts.append(f"on {value.bridge}")
        ns = namespace_of_node(topo.get_node, name)
        if ns is not None:
            parts.append(f"in {ns}")
        return [], " · ".join(parts)

    # -- creating -------------------------------------------------------------------------
    def add_node_at(self, kind: str, point: QPointF) -> str | None:
        problem = node_problem(self.doc.topology, kind)
        if problem:
            self.message.emit(problem, point)
            return None
        name = new_node_name(self.doc.topology, kind, self.names_in_use())
        self.doc.push(AddNode(self.doc, name, new_node(kind, position=snap(point))))
        return name

    def connect_nodes(self, a: str, b: str, where: QPointF) -> str | None:
        try:
            link = new_link(self.doc.topology, a, b)
        except IllegalLink as exc:
            self.message.emit(str(exc), where)
            return None
        command = AddLink(self.doc, link)
        self.doc.push(command)
        return command.link_id

    # -- mouse: drawing links and one-step drags --------------------------------------------
    def node_at(self, point: QPointF) -> NodeItem | None:
        for item in self.items(point):
            if isinstance(item, NodeItem):
                return item
        return None

    def cancel_tool(self) -> None:
        """Esc: back to selecting (a half-drawn link or half-chosen ping is dropped)."""
        if self._gesture is not None:
            self._gesture.cancel()
            self._gesture = None
        if self.tool.name != "select":
            self.use_tool("select")
            self.tool_cancelled.emit()

    def use_tool(self, name: str, source: str | None = None) -> None:
        """ "select", "link", "ping" (`source`: a ping's source, already chosen) or
        "ping-check" (the ping tool's two clicks make a check)."""
        tools = {"select": SelectTool, "link": LinkTool}
        if name in ("ping", "ping-check"):
            self.tool = PingTool(self, source, for_check=name == "ping-check")
        else:
            self.tool = tools[name](self)

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:
        """A right-click selects what it is on (unless that is part of the selection
        already, which the menu's Delete then acts on), as file managers do."""
        node = self.node_at(event.scenePos())
        if node is not None:
            if not node.isSelected():
                self.select([node.name])
            self.context_requested.emit("node", node.name, event.screenPos())
            return
        for item in self.items(event.scenePos()):
            if isinstance(item, LinkItem) and not isinstance(item, MemberItem):
                if not item.isSelected():
                    self.select([], [item.link_id])
                self.context_requested.emit("link", item.link_id, event.screenPos())
                return
        self.context_requested.emit("canvas", "", event.screenPos())

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        node = self.node_at(event.scenePos())
        if event.button() == Qt.MouseButton.LeftButton:
            self._gesture = self.tool.press(event, node)
            if self._gesture is not None:
                event.accept()
                return
        super().mousePressEvent(event)
        self._press_positions = {
            item.name: item.pos() for item in self.selectedItems() if isinstance(item, NodeItem)
        }
        # While nodes are dragged, lines are drawn without antialiasing: twice as fast,
        # and the finished position is drawn smooth again.
        self.layer.set_interactive(bool(self._press_positions) and node is not None)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._gesture is not None:
            self._gesture.move(event)
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._gesture is not None:
            gesture, self._gesture = self._gesture, None
            gesture.release(event)
            return
        super().mouseReleaseEvent(event)
        self.layer.set_interactive(False)
        self.finish_drag()

    def finish_drag(self) -> None:
        """The drag that just ended becomes one undo step (positions snapped to the grid)."""
        moves = {}
        for name, before in self._press_positions.items():
            item = self.nodes.get(name)
            if item is None or item.pos() == before:
                continue
            old = self.doc.topology.node(name).position
            moves[name] = (old, snap(item.pos()))
        self._press_positions = {}
        if moves:
            self.doc.push(MoveNodes(self.doc, moves))

    def selected_names(self) -> tuple[list[str], list[str]]:
        nodes = [i.name for i in self.selectedItems() if isinstance(i, NodeItem)]
        links = [i.link_id for i in self.selectedItems() if isinstance(i, LinkItem)]
        return nodes, links

    def select(self, nodes: Sequence[str], links: Sequence[str] = ()) -> None:
        """Select these items: one selectionChanged for all of them, not one per item."""
        before = self.selectedItems()
        self.blockSignals(True)
        try:
            self.clearSelection()
            for name in nodes:
                if name in self.nodes:
                    self.nodes[name].setSelected(True)
            for lid in links:
                if lid in self.links:
                    self.links[lid].setSelected(True)
        finally:
            self.blockSignals(False)
        if self.selectedItems() != before:
            self.selectionChanged.emit()
