"""What the main window offers a newcomer, kept out of mainwindow.py: the welcome page
over the empty canvas, the Help menu, the Labs dock, the guided lessons, a new
document's lab name that no running lab has, and file dialogs that open where the
user's files are.

MainWindow calls `Newcomer(window)` once its menus and first document exist, and
`document_shown()` whenever it shows another document."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nstopo.model.names import fresh_lab_name
from nstopo.model.schema import topology_from_document
from nstopo.resources import EXAMPLES
from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMenu
from shiboken6 import isValid

from .aboutlab import AboutLabPanel
from .document import Document
from .help import build_help_menu
from .labsdock import LabsPanel
from .lessons import LessonGuide, progress_text
from .welcome import WelcomeView

if TYPE_CHECKING:
    from .mainwindow import MainWindow

LAST_FOLDER = "last-folder"


def dialog_folder(settings: QSettings, doc: Document | None = None) -> str:
    """Where an Open or Save dialog starts: the shown file's folder, else the folder
    last used, else the home folder (not the directory the editor was started in)."""
    if doc is not None and doc.path is not None and doc.path.parent.is_dir():
        return str(doc.path.parent)
    last = settings.value(LAST_FOLDER, "", str)
    if last and Path(last).is_dir() and Path(last) != EXAMPLES:
        return last
    return str(Path.home())


def remember_folder(settings: QSettings, path: Path) -> None:
    settings.setValue(LAST_FOLDER, str(Path(path).resolve().parent))


class Newcomer(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.labs = LabsPanel(window.connection)
        self.labs.open_requested.connect(self.open_running_lab)
        self.labs.labs_changed.connect(self._avoid_running_names)
        window._dock("Labs", self.labs, Qt.DockWidgetArea.RightDockWidgetArea)
        docks = window._docks
        if "Live" in docks:
            window.tabifyDockWidget(docks["Live"], docks["Labs"])
            docks["Live"].raise_()
        self.about = AboutLabPanel()  # the open file's own explanation (item 8)
        window._dock("About this lab", self.about, Qt.DockWidgetArea.BottomDockWidgetArea)
        if "Problems" in docks:
            window.tabifyDockWidget(docks["Problems"], docks["About this lab"])
            docks["Problems"].raise_()
        self.panels_menu = self._panels_menu()
        self.lessons = LessonGuide(window, self.hide_welcome)
        self.help_menu = build_help_menu(
            window,
            self.show_welcome,
            [
                (f"{i + 1}. {lesson.title}", lambda n=lesson.name: self.lessons.start(n))
                for i, lesson in enumerate(self.lessons.lessons())
            ],
        )
        self.welcome: WelcomeView | None = None
        self.document_shown()

    def _panels_menu(self) -> QMenu:
        """View → Panels: every dock by name, checked while shown (a closed dock used to
        come back only through the toolbar area's hidden right-click menu)."""
        w = self.window
        view = next(
            (a.menu() for a in w.menuBar().actions() if a.text().replace("&", "") == "View"),
            None,
        )
        menu = (view or w.menuBar()).addMenu("&Panels")
        for title, dock in sorted(w._docks.items()):
            toggle = dock.toggleViewAction()
            toggle.setText(title)
            menu.addAction(toggle)
        return menu

    # -- the welcome page -------------------------------------------------------------------
    def show_welcome(self) -> WelcomeView:
        w = self.window
        if self._page() is None:
            recent = w.settings.value("recent", [], list)
            self.welcome = WelcomeView(recent)
            self.welcome.lesson_chosen.connect(self.lessons.start)
            self.welcome.new_requested.connect(self._new)
            self.welcome.open_requested.connect(w.open_dialog)
            self.welcome.path_chosen.connect(self._open)
        self.welcome.set_lessons(
            [(x, progress_text(w.settings, x)) for x in self.lessons.lessons()]
        )
        self.welcome.cover(w.view)
        return self.welcome

    def _page(self) -> WelcomeView | None:
        """The welcome page, while it exists: it lies on a canvas, and a canvas goes with
        its document (a page hidden there goes with it)."""
        if self.welcome is not None and not isValid(self.welcome):
            self.welcome = None
        return self.welcome

    def hide_welcome(self) -> None:
        if self._page() is not None:
            self.welcome.hide()

    def _new(self) -> None:
        self.window.new_document()
        self.hide_welcome()

    def _open(self, path: Path) -> None:
        if self.window.open_path(path):
            self.hide_welcome()

    # -- following the shown document -------------------------------------------------------
    def document_shown(self) -> None:
        w = self.window
        doc = w.doc
        if hasattr(self, "lessons"):
            self.lessons.document_shown()
        self.labs.set_current(doc.topology.name)
        # Esc leaves a tool: its hint in the status bar goes with it.
        w.scene.tool_cancelled.connect(w.statusBar().clearMessage)
        # An inspector edit that replaced the item keeps it selected on the canvas.
        w.inspector.subject_kept.connect(
            lambda kind, key: w.scene.select(
                [key] if kind == "node" else [], [key] if kind == "link" else []
            )
        )
        doc.changed.connect(self._document_changed)
        doc.pathChanged.connect(self._explain)
        self._explain()
        if self._page() is not None and self.welcome.isVisible():
            if doc.path is not None or len(doc.topology):
                self.hide_welcome()
            else:
                self.welcome.cover(self.window.view)  # the new canvas
        self._avoid_running_names()

    def _explain(self) -> None:
        """A file that explains itself (the examples do) opens with its explanation in
        front; the Problems tab is one click away."""
        if self.about.show_document(self.window.doc):
            self.window._docks["About this lab"].raise_()

    def _document_changed(self) -> None:
        doc = self.window.doc
        self.labs.set_current(doc.topology.name)
        if len(doc.topology) and self._page() is not None:
            self.hide_welcome()  # something is drawn: the canvas is the thing now

    def _avoid_running_names(self) -> None:
        """A new, untouched document whose lab name a running lab already has is given
        another name (it would otherwise show that lab's objects as pending removals)."""
        doc = self.window.doc
        live = getattr(self.window, "live", None)
        pristine = doc.path is None and not len(doc.topology) and doc.undo.count() == 0
        if not pristine or (live is not None and live.running):
            return
        taken = self.labs.names
        if doc.topology.name in taken:
            doc.topology.set_lab(name=fresh_lab_name(taken))
            doc.undo.setClean()

    # -- the Labs dock ----------------------------------------------------------------------
    def open_running_lab(self, lab: str, document: dict[str, Any]) -> None:
        w = self.window
        if not w.confirm_discard():
            return
        doc = Document(topology_from_document(document))
        show = getattr(w, "show_document", None)
        unplaced = all(v.position is None for _, v in doc.topology.nodes())
        if show is not None:
            show(doc, lay_out=unplaced)
        else:  # the window before its DocumentView restructuring
            w._attach(doc)
            if unplaced:
                w.editing.layout_all()
        self.hide_welcome()
        w.statusBar().showMessage(f"Opened the running lab “{lab}” as it was deployed.", 6000)

    def labs_dock(self) -> QDockWidget:
        return self.window._docks["Labs"]
