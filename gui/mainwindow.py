"""The editor window: menus, the canvas, and the docks around it."""

from __future__ import annotations

import gc
import hashlib
import os
from pathlib import Path

from nstopo.model.containerlab import export_containerlab
from nstopo.model.layout import auto_layout
from nstopo.model.problems import TopologyFileError
from nstopo.model.schema import to_document, topology_from_document
from nstopo.model.script import export_script
from nstopo.model.types import replace
from nstopo.resources import ICONS
from PySide6.QtCore import QEvent, QMimeData, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QIcon, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QTabBar,
    QUndoView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from .animation import PacketAnimator
from .capturepanel import CapturePanel
from .commands import MoveNodes, Paste, Remove
from .connection import HelperConnection
from .document import Document
from .export import render_png, render_svg, svg_bytes
from .helperbar import HelperBar
from .inspector import Inspector
from .live import LiveSession
from .liveactions import LiveActions
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
CLIP_MIME = "application/x-nstopo-selection"


def autosave_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "nstopo" / "autosave"


class MainWindow(LiveActions, QMainWindow):
    def __init__(
        self,
        doc: Document | None = None,
        helper_socket: str | None = None,
        helper_state_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.helper_socket, self.helper_state_dir = helper_socket, helper_state_dir
        self.connection = HelperConnection(helper_socket, self)
        self.helper_bar = HelperBar(helper_socket, helper_state_dir, self.connection)
        self.live: LiveSession | None = None
        self.setWindowIcon(QIcon(str(ICONS / "org.nstopo.nstopo.svg")))
        self.settings = QSettings("nstopo", "nstopo")
        self._fit_screen()
        self._docks: dict[str, QDockWidget] = {}
        self.doc = doc or Document()
        self._build_actions()
        self._attach(self.doc)
        self.newcomer = Newcomer(self)  # welcome page, Help, the Labs dock
        self.autosave = QTimer(self)
        self.autosave.setInterval(30_000)
        self.autosave.timeout.connect(self.write_autosave)
        self.autosave.start()

    def _fit_screen(self) -> None:
        """1360x860, or less on a smaller screen (the layout works from 1024x768)."""
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry().size() if screen is not None else None
        width, height = 1360, 860
        if room is not None and room.width() > 0:
            width, height = min(width, room.width()), min(height, room.height())
        self.resize(width, height)

    # -- the document ------------------------------------------------------------------------
    def _attach(self, doc: Document) -> None:
        """Show a document: a new scene and view, panels following it."""
        old_scene = getattr(self, "scene", None)
        self.doc = doc
        self.scene = EditorScene(doc)
        self.scene.setParent(self)  # the window owns its scene
        if old_scene is not None:
            old_scene.selectionChanged.disconnect(self._selection_changed)
            old_scene.deleteLater()
        if self.live is not None:  # the previous document's probes end with it
            self.capture_panel.stop_all()
            self.ping_panel.stop_all()
            self.live.detach()
            self.live.deleteLater()
        self.live = LiveSession(doc, self.connection)
        self.live.setParent(self)
        self.overlay = LiveOverlay(self.scene, self.live)
        old_view = getattr(self, "view", None)
        self.view = CanvasView(self.scene)
        if old_view is None:
            central = QWidget()
            self._column = QVBoxLayout(central)
            self._column.setContentsMargins(0, 0, 0, 0)
            self._column.setSpacing(0)
            self._column.addWidget(self.helper_bar)
            self._column.addWidget(self.view, 1)
            self.setCentralWidget(central)
        else:  # swap the canvas only: the docks keep their sizes
            self._column.replaceWidget(old_view, self.view)
            old_view.deleteLater()
        self.inspector = Inspector(doc)
        self.problems = ProblemsPanel(doc)
        self.commands = CommandsPanel(doc)
        self.palette = Palette()
        self.palette.add_requested.connect(
            lambda kind: self.scene.add_node_at(
                kind, self.view.mapToScene(self.view.viewport().rect().center())
            )
        )
        first = not self._docks  # the first document: the docks are made and grouped
        self._dock("Palette", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("History", QUndoView(doc.undo), Qt.DockWidgetArea.RightDockWidgetArea)
        self.live_panel = LivePanel(self.live)
        self._dock("Live", self.live_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.ping_panel = PingPanel(self.live, self.connection)
        self.capture_panel = CapturePanel(self.live, self.connection)
        self.rates_panel = RatesPanel(self.live)
        self.animator = PacketAnimator(self.scene, self.live)
        self.capture_panel.packet_captured.connect(self.animator.packet)
        # Under the canvas, two groups side by side: problems, commands and captures on
        # the left, pings and rates on the right (a capture and a ping seen together).
        bottom, beside = Qt.DockWidgetArea.BottomDockWidgetArea, Qt.Orientation.Horizontal
        self._dock("Problems", self.problems, bottom)
        self._dock("Ping", self.ping_panel, bottom, beside)
        self._dock("Commands", self.commands, bottom)
        self._dock("Capture", self.capture_panel, bottom)
        self._dock("Rates", self.rates_panel, bottom)
        docks = self._docks
        if first:
            self.tabifyDockWidget(docks["History"], docks["Live"])
            self.tabifyDockWidget(docks["Problems"], docks["Commands"])
            self.tabifyDockWidget(docks["Problems"], docks["Capture"])
            self.tabifyDockWidget(docks["Ping"], docks["Rates"])
            for title in ("Live", "Problems", "Ping"):
                docks[title].raise_()
            self.resizeDocks(
                [docks["Inspector"], docks["Live"]], [360, 300], Qt.Orientation.Vertical
            )
            self.resizeDocks([docks["Problems"]], [200], Qt.Orientation.Vertical)
            self.resizeDocks(
                [docks["Palette"], docks["Inspector"]], [150, 300], Qt.Orientation.Horizontal
            )
        self.scene.ping_requested.connect(self.ping)
        self.scene.ping_address_wanted.connect(self._ping_address)
        self.scene.context_requested.connect(self._context_menu)
        self.scene.message.connect(lambda text, _: self.statusBar().showMessage(text, 6000))
        if hasattr(self, "ping_tool"):  # a new scene starts with the select tool
            self.ping_tool.setChecked(False)
            self.link_tool.setChecked(False)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.scene.tool_cancelled.connect(self._tools_unchecked)
        self.problems.select_requested.connect(self._select)
        doc.changed.connect(self._update_title)
        doc.changed.connect(self._refresh_inspector)
        doc.pathChanged.connect(self._update_title)
        self._update_title()
        if hasattr(self, "newcomer"):
            self.newcomer.document_shown()
        QTimer.singleShot(0, self.view.fit)
        # The document, its items and Qt wrappers live long: keep them out of the garbage
        # collector's full passes, which otherwise stall the UI for tens of milliseconds
        # while a running lab streams events (cycles among them are not freed later).
        gc.freeze()

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

    def _tools_unchecked(self) -> None:
        self.link_tool.setChecked(False)
        self.ping_tool.setChecked(False)

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

    # -- actions -----------------------------------------------------------------------------
    def _action(self, menu: str, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        if menu not in self._menus:
            self._menus[menu] = self.menuBar().addMenu(menu)
        self._menus[menu].addAction(action)  # type: ignore[attr-defined]
        return action

    def _build_actions(self) -> None:
        self._menus: dict[str, object] = {}
        sk = QKeySequence.StandardKey
        self._action("&File", "&New", self.new_document, sk.New)
        self._action("&File", "&Open…", self.open_dialog, sk.Open)
        self.recent_menu = self._menus["&File"].addMenu("Open &Recent")  # type: ignore[attr-defined]
        self._action("&File", "&Save", self.save, sk.Save)
        self._action("&File", "Save &As…", self.save_as, sk.SaveAs)
        self._action("&File", "Export &PNG…", lambda: self.export("png"))
        self._action("&File", "Export S&VG…", lambda: self.export("svg"))
        self._action("&File", "Export &containerlab…", lambda: self.export("clab"))
        self._action("&File", "Export shell &script…", lambda: self.export("sh"))
        self._action("&File", "Copy picture to clipboard", self.copy_picture)
        self._action("&File", "&Quit", self.close, sk.Quit)
        self._action("&Edit", "&Undo", lambda: self.doc.undo.undo(), sk.Undo)
        self._action("&Edit", "&Redo", lambda: self.doc.undo.redo(), "Ctrl+Y")
        self._action("&Edit", "Cu&t", self.cut, sk.Cut)
        self._action("&Edit", "&Copy", self.copy, sk.Copy)
        self._action("&Edit", "&Paste", self.paste, sk.Paste)
        self._action("&Edit", "&Duplicate", self.duplicate, "Ctrl+D")
        self._action("&Edit", "&Delete", self.delete_selection, sk.Delete)
        self._action(
            "&Edit",
            "Select &All",
            lambda: self.scene.select(list(self.scene.nodes), list(self.scene.links)),
            sk.SelectAll,
        )
        self.link_tool = self._action("&Edit", "&Link tool (or Shift+drag)", self._toggle_link, "L")
        self.link_tool.setCheckable(True)
        self._action("&View", "&Fit to window", lambda: self.view.fit(), "F")
        self._action("&View", "Zoom &in", lambda: self.view.zoom(1.2), sk.ZoomIn)
        self._action("&View", "Zoom &out", lambda: self.view.zoom(1 / 1.2), sk.ZoomOut)
        self._action("&View", "&Auto layout", self.layout_all, "Ctrl+Shift+L")
        self._action("&File", "Open &live system", self.open_live_system, "Ctrl+Shift+O")
        self.deploy_action = self._action(
            "&Live",
            "&Deploy / Apply changes",
            lambda: self.live and self.live.deploy(),
            "Ctrl+Return",
        )
        self.destroy_action = self._action(
            "&Live", "D&estroy lab…", lambda: self.live_panel.destroy_lab()
        )
        self.ping_tool = self._action("&Live", "&Ping tool", self._toggle_ping, "P")
        self.ping_tool.setCheckable(True)
        self._action("&Live", "Stop all &captures", lambda: self.capture_panel.stop_all())
        tools = self.addToolBar("Tools")
        tools.setObjectName("Tools")
        for action, short in (
            (self.link_tool, "Link"),
            (self.ping_tool, "Ping"),
            (self.deploy_action, "Deploy / Apply"),
            (self.destroy_action, "Destroy"),
        ):
            action.setIconText(short)  # the toolbar's word; menus keep the full text
            tools.addAction(action)
        self._refresh_recent()

    def _toggle_link(self) -> None:
        self.ping_tool.setChecked(False)
        self.scene.use_tool("link" if self.link_tool.isChecked() else "select")

    # -- editing -----------------------------------------------------------------------------
    def delete_selection(self) -> None:
        nodes, links = self.scene.selected_names()
        nodes = [n for n in nodes if n not in self.doc.foreign_nodes]
        links = [lid for lid in links if lid not in self.doc.foreign_links]
        if nodes or links:
            self.doc.push(Remove(self.doc, nodes, links))

    def _selection_document(self) -> dict | None:
        nodes, _ = self.scene.selected_names()
        if not nodes:
            return None
        topo = self.doc.topology
        part = topo.copy()
        for name in [n for n in topo.node_names() if n not in nodes]:
            part.remove_node(name)
        return to_document(part)

    def copy(self) -> None:
        data = self._selection_document()
        if data is not None:
            import json

            mime = QMimeData()
            mime.setData(CLIP_MIME, json.dumps(data).encode())
            QGuiApplication.clipboard().setMimeData(mime)

    def cut(self) -> None:
        self.copy()
        self.delete_selection()

    def paste(self, data: dict | None = None) -> None:
        import json

        if data is None:
            raw = QGuiApplication.clipboard().mimeData().data(CLIP_MIME)
            if raw.isEmpty():
                return
            data = json.loads(bytes(raw.data()).decode())
        part = topology_from_document(data)
        topo = self.doc.topology
        names = {}
        for name, _ in part.nodes():
            fresh, i = name, 2
            while fresh in topo or fresh in names.values():
                fresh, i = f"{name}-{i}", i + 1
            names[name] = fresh
        nodes = []
        for name, value in part.nodes():
            x, y = value.position or (0.0, 0.0)
            changes = {"position": (x + 40.0, y + 40.0)}
            for ref in ("namespace", "bridge"):
                if getattr(value, ref, None) in names:
                    changes[ref] = names[getattr(value, ref)]
            nodes.append((names[name], replace(value, **changes)))
        links = [
            replace(
                link, endpoints=tuple(replace(ep, node=names[ep.node]) for ep in link.endpoints)
            )
            for _, link in part.links()
        ]
        self.doc.push(Paste(self.doc, nodes, links))
        self.scene.select([n for n, _ in nodes])

    def duplicate(self) -> None:
        data = self._selection_document()
        if data is not None:
            self.paste(data)

    def layout_all(self) -> None:
        positions = auto_layout(self.doc.topology)
        moves = {n: (self.doc.topology.node(n).position, p) for n, p in positions.items()}
        if moves:
            self.doc.push(MoveNodes(self.doc, moves, "Auto layout"))
            self.view.fit()

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

    def confirm_discard(self) -> bool:
        if not self.doc.dirty:
            return True
        answer = self.ask_unsaved(self.doc.display_name())
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_document(self) -> None:
        if self.confirm_discard():
            self.drop_autosave()
            self._attach(Document())

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open topology",
            dialog_folder(self.settings, self.doc),
            "Topologies (*.yaml *.yml)",
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
            QMessageBox.warning(self, "Cannot open", "\n".join(p.format() for p in exc.problems))
            return False
        self.drop_autosave()
        if all(v.position is None for _, v in doc.topology.nodes()):
            self._attach(doc)
            self.layout_all()
            doc.undo.clear()
            doc.undo.setClean()
        else:
            self._attach(doc)
        self._remember(path)
        return True

    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        self.doc.save()
        self.drop_autosave()
        self._remember(self.doc.path)
        return True

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save topology",
            str(Path(dialog_folder(self.settings, self.doc)) / f"{self.doc.topology.name}.yaml"),
            "Topologies (*.yaml)",
        )
        if not path:
            return False
        remember_folder(self.settings, Path(path))
        self.doc.save(Path(path))
        self.drop_autosave()
        self._remember(Path(path))
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
            action.triggered.connect(lambda _=False, p=path: self.open_path(Path(p)))

    def export(self, kind: str) -> None:
        filters = {
            "png": "PNG image (*.png)",
            "svg": "SVG image (*.svg)",
            "clab": "containerlab (*.clab.yml)",
            "sh": "Shell script (*.sh)",
        }
        suffix = {"png": ".png", "svg": ".svg", "clab": ".clab.yml", "sh": ".sh"}[kind]
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export",
            str(Path(dialog_folder(self.settings, self.doc)) / (self.doc.topology.name + suffix)),
            filters[kind],
        )
        if path:
            self.export_to(kind, Path(path))

    def export_to(self, kind: str, path: Path) -> None:
        topo = self.doc.topology
        if kind == "png":
            render_png(self.scene, path)
        elif kind == "svg":
            render_svg(self.scene, path, topo.name)
        elif kind == "clab":
            path.write_text(export_containerlab(topo))
        else:
            path.write_text(export_script(topo))
            path.chmod(0o755)
        self.statusBar().showMessage(f"Exported {path}", 5000)

    def copy_picture(self) -> None:
        mime = QMimeData()
        mime.setData("image/svg+xml", svg_bytes(self.scene, self.doc.topology.name))
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".png") as tmp:
            mime.setImageData(render_png(self.scene, Path(tmp.name)))
        QGuiApplication.clipboard().setMimeData(mime)

    # -- autosave and recovery -------------------------------------------------------------
    def autosave_path(self) -> Path:
        key = str(self.doc.path.resolve()) if self.doc.path else f"untitled-{id(self.doc)}"
        digest = hashlib.sha1(key.encode()).hexdigest()[:12]
        return autosave_dir() / f"{self.doc.topology.name}-{digest}.yaml"

    def write_autosave(self) -> None:
        if not self.doc.dirty:
            return
        target = self.autosave_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        header = f"# nstopo autosave of {self.doc.path or 'an unsaved lab'}\n"
        target.write_text(header + self.doc.text())

    def drop_autosave(self) -> None:
        self.autosave_path().unlink(missing_ok=True)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.confirm_discard():
            self.drop_autosave()
            self.helper_bar.stop_session_helper()
            self.connection.close()
            event.accept()
        else:
            event.ignore()


def recoverable() -> list[Path]:
    """Autosaves left by an editor that did not close normally."""
    folder = autosave_dir()
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []
