"""Docked panels: the palette, problems (click selects), and the ip commands."""

from __future__ import annotations

from nstopo.model.plan import plan_up
from nstopo.model.validate import has_errors
from PySide6.QtCore import QEvent, QMimeData, Qt, Signal
from PySide6.QtGui import QDrag, QFont, QPixmap, QShowEvent
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QPlainTextEdit

from .document import Document
from .theme import desktop_is_dark, kind_icon
from .view import KIND_MIME

KINDS = [
    ("netns", "Namespace"),
    ("bridge", "Bridge"),
    ("tap", "Tap"),
    ("tun", "Tun"),
    ("host", "Host"),
]
# What each kind is, for someone who has not met it yet (the palette's tooltips).
KIND_HELP = {
    "netns": "Network namespace: its own interfaces, addresses, routes and firewall, "
    "like a container or a separate machine (ip netns add).",
    "bridge": "Bridge: a software switch (ip link add type bridge). Veths drawn to it "
    "become its ports; a gateway address belongs on the bridge, not on a port.",
    "tap": "Tap: an Ethernet device whose other side is a program (a VM such as QEMU) "
    "reading frames from a file; NO-CARRIER until one attaches. Can join a bridge.",
    "tun": "Tun: like a tap, but it carries bare IP packets without an Ethernet header "
    "(VPNs such as OpenVPN use them).",
    "host": "Host: the machine's own (root) namespace, to link a lab to this host. "
    "Only 10.x addresses on veths the lab owns are added; destroy removes them.",
}


class Palette(QListWidget):
    """Drag a kind onto the canvas (or double-click to add one at the center)."""

    add_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setDragEnabled(True)
        self.setIconSize(QPixmap(28, 28).size())
        for kind, label in KINDS:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, kind)
            tip = f"{KIND_HELP[kind]}\nDrag it onto the canvas, or double-click."
            item.setToolTip(tip)
            item.setStatusTip(KIND_HELP[kind])
            self.addItem(item)
        self._paint_icons()
        self.itemDoubleClicked.connect(
            lambda item: self.add_requested.emit(item.data(Qt.ItemDataRole.UserRole))
        )

    def _paint_icons(self) -> None:
        dark = desktop_is_dark()
        for row in range(self.count()):
            item = self.item(row)
            item.setIcon(kind_icon(item.data(Qt.ItemDataRole.UserRole), dark))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the desktop went dark, or light
            self._paint_icons()

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        if item is None:
            return
        mime = QMimeData()
        mime.setData(KIND_MIME, item.data(Qt.ItemDataRole.UserRole).encode())
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(item.icon().pixmap(32, 32))
        drag.exec(Qt.DropAction.CopyAction)


class ProblemsPanel(QListWidget):
    """Errors and warnings of the document; activating one selects what it is about."""

    select_requested = Signal(str, str)  # ("node", name) or ("link", id)

    def __init__(self, doc: Document) -> None:
        super().__init__()
        self.doc = doc
        self.setWordWrap(True)  # a problem is a sentence; the dock is narrower than most
        doc.problemsChanged.connect(self.refresh)  # not per move: validating costs
        self.itemActivated.connect(self._activate)
        self.itemClicked.connect(self._activate)
        self.refresh()

    def refresh(self) -> None:
        self.clear()
        ids = self.doc.topology.link_ids()
        for problem in sorted(self.doc.problems(), key=lambda p: not p.is_error):
            item = QListWidgetItem(
                f"{'✖' if problem.is_error else '⚠'}  {problem.message}  [{problem.rule}]"
            )
            target = ("", "")
            if problem.path[:1] == ("nodes",) and len(problem.path) > 1:
                target = ("node", str(problem.path[1]))
            elif problem.path[:1] == ("links",) and len(problem.path) > 1:
                index = int(problem.path[1])
                target = ("link", ids[index]) if index < len(ids) else ("", "")
            item.setData(Qt.ItemDataRole.UserRole, target)
            item.setToolTip(problem.message)
            self.addItem(item)
        if not self.count():
            self.addItem("No problems: this lab can be deployed.")

    def _activate(self, item: QListWidgetItem) -> None:
        target = item.data(Qt.ItemDataRole.UserRole)
        if target and target[0]:
            self.select_requested.emit(*target)


class CommandsPanel(QPlainTextEdit):
    """The `ip` commands that build the document, updated as it changes."""

    def __init__(self, doc: Document) -> None:
        super().__init__()
        self.doc = doc
        self.setReadOnly(True)
        self.setFont(QFont("DejaVu Sans Mono", 9))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._stale = True
        doc.problemsChanged.connect(self.refresh)  # not per move: validating costs
        self.refresh()

    def refresh(self) -> None:
        """Planning a big lab takes a while: only while the panel is on screen (a tab
        behind another catches up when it is shown)."""
        self._stale = True
        # A dock behind another tab is moved off screen, not hidden: isVisible() is true.
        if self.isVisible() and not self.visibleRegion().isEmpty():
            self._show_commands()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.catch_up()

    def catch_up(self) -> None:
        """Its tab came to the front: the commands of the document as it is now."""
        if self._stale:
            self._show_commands()

    def _show_commands(self) -> None:
        self._stale = False
        problems = self.doc.problems()
        if has_errors(problems):
            self.setPlainText("# Fix the problems first: the lab cannot be built as it is.")
            return
        commands = plan_up(self.doc.topology).commands()
        self.setPlainText("\n".join(commands) if commands else "# Nothing to build yet.")
