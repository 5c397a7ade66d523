"""The editor window: menus, the canvas, and the docks around it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from nstopo.model.containerlab import export_containerlab
from nstopo.model.problems import TopologyFileError
from nstopo.model.script import export_script
from nstopo.resources import ICONS
from PySide6.QtCore import QEvent, QMimeData, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QIcon, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QTabBar,
    QUndoView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from .animation import PacketAnimator
from .autosave import Autosave
from .capturepanel import CapturePanel
from .checkspanel import ChecksPanel
from .connection import HelperConnection
from .document import Document, SaveError
from .docview import DocumentView
from .editing import Editing
from .export import render_png, render_svg, svg_bytes
from .helperbar import HelperBar
from .inspector import Inspector
from .live import LiveSession
from .liveactions import LiveController, LivePanels, ToolActions
from .livemenu import on_trigger
from .liveoverlay import LiveOverlay
from .livepanel import LivePanel
from .newcomer import Newcomer, dialog_folder, remember_folder
from .panels import CommandsPanel, Palette, ProblemsPanel
from .pingpanel import PingPanel
from .ratespanel import RatesPanel
from .scene import EditorScene
from .theme import current_theme
from .view import CanvasView

MAX_RECENT = 8
Shortcut = QKeySequence | QKeySequence.StandardKey | str | None


class MainWindow(QMainWindow):
    """The window: menus, the helper bar, the canvas of the shown document (a
    DocumentView, swapped as one) and the docks around it."""

    def __init__(
        self,
        doc: Document | None = None,
        helper_socket: str | None = None,
        helper_state_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.setWindowIcon(QIcon(str(ICONS / "org.nstopo.nstopo.svg")))
        self.settings = QSettings("nstopo", "nstopo")
        self.connection = HelperConnection(helper_socket, self)
        self.helper_bar = HelperBar(helper_socket, helper_state_dir, self.connection)
        self._docks: dict[str, QDockWidget] = {}
        self._menus: dict[str, QMenu] = {}
        self.current: DocumentView | None = None
        self._autosave: Autosave | None = None
        self.tools = ToolActions(
            self._make_action("&Link tool (or Shift+drag)", self._toggle_link, "L"),
            self._make_action("&Ping tool", lambda: self.live_control.toggle_ping(), "P"),
        )
        self.editing = Editing(lambda: self._shown(), self.statusBar(), self.raise_dock)
        self.live_control = LiveController(
            self,
            self.connection,
            self.statusBar(),
            self.tools,
            self.raise_dock,
            self.confirm_discard,
            self.show_document,
            self.editing.fill_menu,
        )
        self._build_menus()
        self.show_document(doc or Document())
        self.newcomer = Newcomer(self)  # welcome page, Help, the Labs dock, View → Panels
        self.autosave = QTimer(self)
        self.autosave.setInterval(30_000)
        self.autosave.timeout.connect(self.autosave_in_background)
        self.autosave.start()
        # Last: docks added to a window not yet shown grow it to their size hints (the
        # first start was 1,246 px tall, past a 768 px screen's bottom).
        self._fit_screen()

    def _names_in_use(self) -> set[str]:
        """Namespaces of the other running labs (a new node is never named as one)."""
        newcomer = getattr(self, "newcomer", None)  # made after the first document
        return newcomer.labs.namespaces_except(self.doc.topology.name) if newcomer else set()

    def _fit_screen(self) -> None:
        """1360x860, or less on a smaller screen (the layout works from 1024x768)."""
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry().size() if screen is not None else None
        width, height = 1360, 860
        if room is not None and room.width() > 0:
            width, height = min(width, room.width()), min(height, room.height())
        self.resize(width, height)

    # -- the shown document --------------------------------------------------------------
    def _shown(self) -> DocumentView:
        assert self.current is not None
        return self.current

    @property
    def doc(self) -> Document:
        assert self.current is not None
        return self.current.doc

    @property
    def scene(self) -> EditorScene:
        assert self.current is not None
        return self.current.scene

    @property
    def view(self) -> CanvasView:
        assert self.current is not None
        return self.current.view

    @property
    def live(self) -> LiveSession:
        assert self.current is not None
        return self.current.live

    @property
    def overlay(self) -> LiveOverlay:
        assert self.current is not None
        return self.current.overlay

    @property
    def animator(self) -> PacketAnimator:
        assert self.current is not None
        return self.current.animator

    def show_document(self, doc: Document, lay_out: bool = False) -> None:
        """Show another document (the previous one's autosave, probes and canvas end).
        `lay_out`: place its nodes first (a file without positions, the live system)."""
        if self.current is not None:
            self.drop_autosave()
        if lay_out:
            self.editing.lay_out_quietly(doc)
        self._attach(doc)

    def _attach(self, doc: Document) -> None:
        """A new DocumentView for `doc`, and panels following it."""
        old = self.current
        left_running = old.doc.topology.name if old is not None and old.live.running else None
        if old is not None:  # the previous document's probes end with it
            old.scene.selectionChanged.disconnect(self._selection_changed)
            self.capture_panel.stop_all()
            self.ping_panel.stop_all()
            self.checks_panel.close_run()
            old.close()
        self.current = view = DocumentView(doc, self.connection, self)
        self._autosave = None
        self._show_canvas(view.view, old.view if old is not None else None)
        self._dock_panels(view)
        self.live_control.attach(
            view, LivePanels(self.ping_panel, self.capture_panel, self.rates_panel)
        )
        self.capture_panel.packet_captured.connect(view.animator.packet)
        view.scene.message.connect(lambda text, _: self.statusBar().showMessage(text, 6000))
        view.scene.selectionChanged.connect(self._selection_changed)
        view.scene.names_in_use = self._names_in_use
        view.scene.tool_cancelled.connect(lambda: self.tools.show("select"))
        self.tools.show("select")  # a new scene starts with the select tool
        doc.changed.connect(self._update_title)
        doc.changed.connect(self._refresh_inspector)
        doc.pathChanged.connect(self._update_title)
        self._update_title()
        if hasattr(self, "newcomer"):
            self.newcomer.document_shown()
        if left_running is not None and left_running != doc.topology.name:
            self.statusBar().showMessage(
                f"Lab “{left_running}” keeps running: the Labs dock opens or destroys it."
            )
        QTimer.singleShot(0, view.view.fit)

    def _show_canvas(self, canvas: CanvasView, old: CanvasView | None) -> None:
        if old is None:
            central = QWidget()
            self._column = QVBoxLayout(central)
            self._column.setContentsMargins(0, 0, 0, 0)
            self._column.setSpacing(0)
            self._column.addWidget(self.helper_bar)
            self._column.addWidget(canvas, 1)
            self.setCentralWidget(central)
        else:  # swap the canvas only: the docks keep their sizes
            self._column.replaceWidget(old, canvas)

    def _dock_panels(self, view: DocumentView) -> None:
        """The docks and the panels of this document in them (made and grouped once,
        for the first document; later documents put new panels in the same docks)."""
        doc, live = view.doc, view.live
        self.inspector = Inspector(doc)
        self.problems = ProblemsPanel(doc)
        self.commands = CommandsPanel(doc)
        self.palette = Palette()
        self.palette.add_requested.connect(
            lambda kind: self.scene.add_node_at(
                kind, self.view.mapToScene(self.view.viewport().rect().center())
            )
        )
        self.problems.select_requested.connect(self._select)
        self.live_panel = LivePanel(live)
        self.ping_panel = PingPanel(live, self.connection)
        self.capture_panel = CapturePanel(live, self.connection)
        self.rates_panel = RatesPanel(live)
        self.checks_panel = ChecksPanel(view, self.connection.path)
        self.checks_panel.arm_requested.connect(self.arm_check_tool)
        first = not self._docks
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        bottom, beside = Qt.DockWidgetArea.BottomDockWidgetArea, Qt.Orientation.Horizontal
        self._dock("Palette", self.palette, left)
        self._dock("Inspector", _scrolled(self.inspector), right)
        self._dock("History", QUndoView(doc.undo), right)
        self._dock("Live", self.live_panel, right)
        # Under the canvas, two groups side by side: problems, commands and captures on
        # the left, pings and rates on the right (a capture and a ping seen together).
        self._dock("Problems", self.problems, bottom)
        self._dock("Ping", self.ping_panel, bottom, beside)
        self._dock("Commands", self.commands, bottom)
        self._dock("Capture", self.capture_panel, bottom)
        self._dock("Rates", self.rates_panel, bottom)
        self._dock("Checks", self.checks_panel, bottom)
        if first:
            self._group_docks()

    def _group_docks(self) -> None:
        docks = self._docks
        commands = docks["Commands"]  # its tab brought to the front: the current commands
        commands.visibilityChanged.connect(lambda shown: shown and self.commands.catch_up())
        self.tabifyDockWidget(docks["History"], docks["Live"])
        self.tabifyDockWidget(docks["Problems"], docks["Commands"])
        self.tabifyDockWidget(docks["Problems"], docks["Capture"])
        self.tabifyDockWidget(docks["Problems"], docks["Checks"])
        self.tabifyDockWidget(docks["Ping"], docks["Rates"])
        for title in ("Live", "Problems", "Ping"):
            docks[title].raise_()
        self.resizeDocks([docks["Inspector"], docks["Live"]], [360, 300], Qt.Orientation.Vertical)
        self.resizeDocks([docks["Problems"]], [200], Qt.Orientation.Vertical)
        self.resizeDocks(
            [docks["Palette"], docks["Inspector"]], [150, 300], Qt.Orientation.Horizontal
        )

    def raise_dock(self, title: str) -> None:
        self._docks[title].raise_()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "scene"):
            self.scene.set_theme(current_theme())  # the desktop went dark, or light
            self.view.resetCachedContent()  # the grid, in the new colors

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._hide_stale_tab_bars)

    def _hide_stale_tab_bars(self) -> None:
        """Docks tabbed before the window is shown can leave an old tab bar drawn in the
        middle of another dock (a QMainWindow quirk): a tab group's real bar sits right
        under its current dock; any other bar is hidden (Qt shows it again if it reuses it)."""
        for bar in self.findChildren(QTabBar):
            if bar.parent() is not self or not bar.isVisible() or bar.currentIndex() < 0:
                continue
            dock = self._docks.get(bar.tabText(bar.currentIndex()))
            if dock is None:
                continue
            group = len(self.tabifiedDockWidgets(dock)) + 1
            under = dock.geometry().bottomLeft() - bar.geometry().topLeft()
            beside = abs(under.x()) <= 2 and abs(under.y()) <= 3
            if bar.count() != group or not beside:
                bar.hide()

    def _dock(
        self,
        title: str,
        widget: QWidget,
        area: Qt.DockWidgetArea,
        orientation: Qt.Orientation = Qt.Orientation.Vertical,
    ) -> None:
        dock = self._docks.get(title)
        if dock is None:
            dock = self._docks[title] = QDockWidget(title, self)
            dock.setObjectName(title)
            self.addDockWidget(area, dock, orientation)
        old = dock.widget()
        dock.setWidget(widget)
        if old is not None:
            old.deleteLater()

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.doc.display_name()}{'*' if self.doc.dirty else ''} — nstopo")

    def _selection_changed(self) -> None:
        if not isValid(self.scene):  # a scene being destroyed clears its selection last
            return
        nodes, links = self.scene.selected_names()
        if len(nodes) + len(links) == 1:
            subject = ("node", nodes[0]) if nodes else ("link", links[0])
            self.inspector.show_subject(subject)
            self.inspector.setEnabled(not self.doc.is_foreign(*subject))  # not nstopo's
            self.rates_panel.follow_selection(*subject)
        else:
            self.inspector.show_subject(None)
            self.inspector.setEnabled(True)

    def _refresh_inspector(self) -> None:
        focus = QGuiApplication.focusObject()
        if not (isinstance(focus, QWidget) and self.inspector.isAncestorOf(focus)):
            self.inspector.show_subject(self.inspector.subject)

    def _select(self, kind: str, key: str) -> None:
        self.scene.select([key] if kind == "node" else [], [key] if kind == "link" else [])
        item = self.scene.nodes.get(key) if kind == "node" else self.scene.links.get(key)
        if item is not None:
            self.view.centerOn(item)

    # -- menus -------------------------------------------------------------------------------
    def _menu(self, title: str) -> QMenu:
        if title not in self._menus:
            self._menus[title] = self.menuBar().addMenu(title)
        return self._menus[title]

    def _make_action(
        self, text: str, slot: Callable[[], object], shortcut: Shortcut = None
    ) -> QAction:
        """An action running `slot()` (without QAction.triggered's `checked`)."""
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        on_trigger(action, slot)
        return action

    def _action(
        self, menu: str, text: str, slot: Callable[[], object], shortcut: Shortcut = None
    ) -> QAction:
        action = self._make_action(text, slot, shortcut)
        self._menu(menu).addAction(action)
        return action

    def _build_menus(self) -> None:
        sk = QKeySequence.StandardKey
        file, edit, view, live = "&File", "&Edit", "&View", "&Live"
        self._action(file, "&New", self.new_document, sk.New)
        self._action(file, "&Open…", self.open_dialog, sk.Open)
        self.recent_menu = self._menu(file).addMenu("Open &Recent")
        self._action(file, "Open &live system", self.live_control.open_live_system, "Ctrl+Shift+O")
        self._action(file, "&Save", self.save, sk.Save)
        self._action(file, "Save &As…", self.save_as, sk.SaveAs)
        self._action(file, "Export &PNG…", lambda: self.export("png"))
        self._action(file, "Export S&VG…", lambda: self.export("svg"))
        self._action(file, "Export &containerlab…", lambda: self.export("clab"))
        self._action(file, "Export shell &script…", lambda: self.export("sh"))
        self._action(file, "Copy picture to clipboard", self.copy_picture)
        self._action(edit, "&Undo", lambda: self.doc.undo.undo(), sk.Undo)
        self._action(edit, "&Redo", lambda: self.doc.undo.redo(), "Ctrl+Y")
        self._action(edit, "Cu&t", self.editing.cut, sk.Cut)
        self._action(edit, "&Copy", self.editing.copy, sk.Copy)
        self._action(edit, "&Paste", self.editing.paste, sk.Paste)
        self._action(edit, "&Duplicate", self.editing.duplicate, "Ctrl+D")
        self._action(edit, "&Delete", self.editing.delete_selection, sk.Delete)
        self._action(edit, "Select &All", self.editing.select_all, sk.SelectAll)
        self._menu(edit).addAction(self.tools.link)  # made first: the controller takes it
        self.tools.link.setCheckable(True)
        self._action(view, "&Fit to window", lambda: self.view.fit(), "F")
        self._action(view, "Zoom &in", lambda: self.view.zoom(1.2), sk.ZoomIn)
        self._action(view, "Zoom &out", lambda: self.view.zoom(1 / 1.2), sk.ZoomOut)
        self._action(view, "&Auto layout", self.editing.layout_all, "Ctrl+Shift+L")
        self._action(file, "&Quit", self.close, sk.Quit)
        self.deploy_action = self._action(
            live, "&Deploy / Apply changes", lambda: self.live.deploy(), "Ctrl+Return"
        )
        self.destroy_action = self._action(
            live, "D&estroy lab…", lambda: self.live_panel.destroy_lab()
        )
        self._menu(live).addAction(self.tools.ping)
        self.tools.ping.setCheckable(True)
        self._action(live, "Run all c&hecks", self.run_all_checks, "Ctrl+Shift+T")
        self._action(live, "Add ping chec&k (two clicks)", self.arm_check_tool)
        self._action(live, "Stop all &captures", lambda: self.capture_panel.stop_all())
        toolbar = self.addToolBar("Tools")
        toolbar.setObjectName("Tools")
        for action, short in (
            (self.tools.link, "Link"),
            (self.tools.ping, "Ping"),
            (self.deploy_action, "Deploy / Apply"),
            (self.destroy_action, "Destroy"),
        ):
            action.setIconText(short)  # the toolbar's word; menus keep the full text
            toolbar.addAction(action)
        self._refresh_recent()

    def run_all_checks(self) -> None:
        self.raise_dock("Checks")
        self.checks_panel.run_all()

    def arm_check_tool(self) -> None:
        """The ping tool's two clicks make a ping check (the Checks panel adds it)."""
        self.raise_dock("Checks")
        self.tools.show("ping")
        self.scene.use_tool("ping-check")
        self.statusBar().showMessage(
            "Add a ping check: click the node to ping from, then the node (or the canvas, "
            "for an address) that should answer."
        )

    def _toggle_link(self) -> None:
        on = self.tools.link.isChecked()
        self.tools.show("link" if on else "select")
        self.scene.use_tool("link" if on else "select")

    # -- files -------------------------------------------------------------------------------
    def ask_unsaved(self, name: str) -> QMessageBox.StandardButton:
        """Save, Discard or Cancel? (a dialog; tests answer it themselves)."""
        buttons = (
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        return QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {name}?", buttons
        )

    def tell(self, title: str, sentence: str) -> QMessageBox:
        """A problem the user must see, in a message box that does not block (and in the
        status bar)."""
        self.statusBar().showMessage(sentence, 15000)
        box = QMessageBox(QMessageBox.Icon.Warning, title, sentence, parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def confirm_discard(self) -> bool:
        if not self.doc.dirty:
            return True
        answer = self.ask_unsaved(self.doc.display_name())
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_document(self) -> None:
        if self.confirm_discard():
            self.show_document(Document())

    def open_dialog(self) -> None:
        folder = dialog_folder(self.settings, self.doc)
        path, _ = QFileDialog.getOpenFileName(
            self, "Open topology", folder, "Topologies (*.yaml *.yml)"
        )
        if path:
            remember_folder(self.settings, Path(path))
            self.open_path(Path(path))

    def open_path(self, path: Path) -> bool:
        if not self.confirm_discard():
            return False
        try:
            doc = Document.open(path)
        except TopologyFileError as exc:
            self.tell("Cannot open", "\n".join(p.format() for p in exc.problems))
            return False
        unplaced = all(v.position is None for _, v in doc.topology.nodes())
        self.show_document(doc, lay_out=unplaced)
        self._remember(path)
        return True

    def recover(self, autosave: Path) -> None:
        """Crash recovery: the autosave's text as a new, unsaved document."""
        doc = Document.open(autosave)
        doc.path = None
        self.show_document(doc)

    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        return self._save_to(None)

    def save_as(self) -> bool:
        start = Path(dialog_folder(self.settings, self.doc)) / f"{self.doc.topology.name}.yaml"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save topology", str(start), "Topologies (*.yaml)"
        )
        if path:
            remember_folder(self.settings, Path(path))
        return self._save_to(Path(path)) if path else False

    def _save_to(self, path: Path | None) -> bool:
        """Save; a refusal of the system is told in one sentence, and the document stays
        dirty with its autosave."""
        try:
            self.doc.save(path)
        except SaveError as exc:
            self.tell("Cannot save", str(exc))
            return False
        self.drop_autosave()
        self._remember(self.doc.path)
        return True

    def _remember(self, path: Path | None) -> None:
        if path is None:
            return
        recent = [str(Path(path).resolve())]
        recent += [p for p in self.settings.value("recent", [], list) if p != recent[0]]
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.value("recent", [], list):
            action = self.recent_menu.addAction(path)
            on_trigger(action, lambda p=path: self.open_path(Path(p)))

    def export(self, kind: str) -> None:
        filters = {
            "png": "PNG image (*.png)",
            "svg": "SVG image (*.svg)",
            "clab": "containerlab (*.clab.yml)",
            "sh": "Shell script (*.sh)",
        }
        suffix = {"png": ".png", "svg": ".svg", "clab": ".clab.yml", "sh": ".sh"}[kind]
        start = Path(dialog_folder(self.settings, self.doc)) / (self.doc.topology.name + suffix)
        path, _ = QFileDialog.getSaveFileName(self, "Export", str(start), filters[kind])
        if path:
            self.export_to(kind, Path(path))

    def export_to(self, kind: str, path: Path) -> None:
        topo = self.doc.topology
        try:
            if kind == "png":
                render_png(self.scene, path)
            elif kind == "svg":
                render_svg(self.scene, path, topo.name)
            elif kind == "clab":
                path.write_text(export_containerlab(topo))
            else:
                path.write_text(export_script(topo))
                path.chmod(0o755)
        except OSError as exc:
            self.tell(
                "Cannot export", f"Cannot write {path}: {(exc.strerror or str(exc)).lower()}."
            )
            return
        self.statusBar().showMessage(f"Exported {path}", 5000)

    def copy_picture(self) -> None:
        mime = QMimeData()
        mime.setData("image/svg+xml", svg_bytes(self.scene, self.doc.topology.name))
        with tempfile.NamedTemporaryFile(suffix=".png") as tmp:
            mime.setImageData(render_png(self.scene, Path(tmp.name)))
        QGuiApplication.clipboard().setMimeData(mime)

    # -- autosave ----------------------------------------------------------------------------
    def autosave_path(self) -> Path:
        return self._autosave_file().file

    def _autosave_file(self) -> Autosave:
        if self._autosave is None:
            self._autosave = Autosave(self.doc.path, self.doc.topology.name)
            self._autosave.setParent(self)
            queued = Qt.ConnectionType.QueuedConnection  # from the worker thread
            self._autosave.failed.connect(self._autosave_failed, queued)
            self._autosave.written.connect(self._autosave_written, queued)
        return self._autosave

    def autosave_in_background(self) -> bool:
        """The timer's autosave: the unsaved text, made and written off the UI thread."""
        if not self.doc.dirty:
            return True
        return self._autosave_file().write_in_background(
            self.doc.topology, self.doc.loaded, self.doc.checks
        )

    def write_autosave(self) -> bool:
        """The unsaved text, now; a failure (disk full) is told once per spell and keeps
        the previous autosave."""
        if not self.doc.dirty:
            return True
        try:
            self._autosave_file().write(self.doc.text())
        except OSError as exc:
            self._autosave_failed((exc.strerror or str(exc)).lower())
            return False
        self._autosave_written()
        return True

    _autosave_failing = False

    def _autosave_failed(self, reason: str) -> None:
        if not self._autosave_failing:
            self._autosave_failing = True
            self.tell(
                "Autosave failed",
                f"Cannot write the autosave {self.autosave_path()}: {reason}. Your changes "
                "are still open; save them somewhere with room.",
            )

    def _autosave_written(self) -> None:
        self._autosave_failing = False

    def drop_autosave(self) -> None:
        if self._autosave is not None:
            self._autosave.drop()
        self._autosave = None

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.confirm_discard():
            self.drop_autosave()
            self.checks_panel.close_run()
            self.newcomer.lessons.end()
            self.helper_bar.stop_session_helper()
            self.connection.close()
            event.accept()
        else:
            event.ignore()


def _scrolled(widget: QWidget) -> QScrollArea:
    """A panel that scrolls rather than asks for its whole height: a namespace's form
    (startup commands, services, a firewall) made the window 1,039 px tall at least,
    past the bottom of a 768 px screen."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area
