"""Guided lessons in the editor (issue 18, item 5): the study notes' experiments as stages
beside the canvas.

Starting a lesson opens its start topology (or, when the learner got further before,
the drawing their last finished stage ended with) as a new document, and a Lesson dock
with the stage's explanation, its task, and what is still missing. A stage is done
when its drawing conditions hold on the document (re-checked on every edit,
model/lessons.py) and its kernel checks pass against the running lab; the checks run
through gui/checkrun.py once the lab runs as drawn (after a Deploy or Apply), and again
with "Check now". "Show me" makes the drawing the stage's solution, one undoable edit.
Progress (how many stages are done) is kept in QSettings, per lesson file.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import TYPE_CHECKING

from nstopo.backend.checkrunner import Outcome
from nstopo.model.lessons import Lesson, Stage, bundled_lessons, drawing_unmet
from nstopo.model.problems import TopologyFileError
from nstopo.model.schema import to_document
from nstopo.model.topology import Topology
from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from .checkrun import CheckRun, Job, describe
from .checkspanel import COLORS, dot_icon
from .commands import ReplaceTopology
from .document import Document
from .docview import DocumentView

if TYPE_CHECKING:
    from .mainwindow import MainWindow

DOCK = "Lesson"


# -- progress ---------------------------------------------------------------------------------
def stages_done(settings: QSettings, lesson: str) -> int:
    """How many stages of `lesson` (its file's stem) the learner has finished."""
    return int(settings.value(f"lessons/{lesson}/done", 0, int))


def set_stages_done(settings: QSettings, lesson: str, done: int) -> None:
    if done > stages_done(settings, lesson):
        settings.setValue(f"lessons/{lesson}/done", done)
        settings.sync()


@functools.cache
def available_lessons() -> list[Lesson]:
    """The bundled lessons, read once (the welcome page, Help and every start ask); a
    broken lesson file leaves them all out rather than the editor (the lessons' own
    tests catch it)."""
    try:
        return bundled_lessons()
    except TopologyFileError:
        return []


def progress_text(settings: QSettings, lesson: Lesson) -> str:
    done = min(stages_done(settings, lesson.name), len(lesson.stages))
    if done == len(lesson.stages):
        return "done"
    return f"{done}/{len(lesson.stages)} stages" if done else "not started"


def _kernel_side(topology: Topology) -> dict:
    """What of a topology the kernel has (not where its nodes are drawn)."""
    document = to_document(topology)
    for node in document["nodes"].values():
        node.pop("position", None)
    return document


# -- the dock ---------------------------------------------------------------------------------
class LessonPanel(QWidget):
    """One lesson beside the canvas of its document."""

    def __init__(
        self, lesson: Lesson, stage: int, view: DocumentView, socket: str, settings: QSettings
    ) -> None:
        super().__init__()
        self.lesson, self.view, self.settings = lesson, view, settings
        self.doc, self.live = view.doc, view.live
        self.index = stage
        self.results: dict[str, Outcome | None] = {}  # check name -> outcome (None: running)
        self._checked_for: object = None  # the lab state the last run was for
        self._index_run = -1  # the stage the checks under way belong to
        self.runner = CheckRun(socket)
        self.runner.finished.connect(self._check_finished)
        self.runner.ended.connect(self._run_ended)
        self._soon = QTimer(self)  # edits and kernel events come in bursts
        self._soon.setSingleShot(True)
        self._soon.setInterval(150)
        self._soon.timeout.connect(self.evaluate)

        self.title = QLabel(f"<b>{html.escape(lesson.title)}</b>")
        self.title.setWordWrap(True)
        self.stage_list = QListWidget()
        self.stage_list.setMaximumHeight(24 * min(6, len(lesson.stages)) + 8)
        self.stage_list.itemClicked.connect(self._stage_clicked)
        self.stage_title = QLabel()
        self.stage_title.setWordWrap(True)
        self.explain = QTextBrowser()
        self.task = QLabel()
        self.task.setWordWrap(True)
        self.task.setTextFormat(Qt.TextFormat.RichText)
        self.task.setStyleSheet(
            "QLabel { background: #fff7e0; color: #3a2f00; border: 1px solid #e8c766;"
            " border-radius: 4px; padding: 6px; }"
        )
        self.todo = QLabel()
        self.todo.setWordWrap(True)
        self.todo.setTextFormat(Qt.TextFormat.RichText)
        self.todo.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_button = QPushButton("Check now")
        self.check_button.setToolTip("Run this stage's kernel checks against the running lab")
        self.check_button.clicked.connect(self.check_now)
        self.show_button = QPushButton("Show me")
        self.show_button.setToolTip("Draw this stage's solution (Edit → Undo takes it back)")
        self.show_button.clicked.connect(self.show_me)
        self.next_button = QPushButton("Next stage →")
        self.next_button.clicked.connect(self.next_stage)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.show_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.stage_list)
        layout.addWidget(self.stage_title)
        layout.addWidget(self.explain, 1)
        layout.addWidget(self.task)
        layout.addWidget(self.todo)
        layout.addLayout(buttons)
        self.doc.changed.connect(self._soon.start)
        self.live.changed.connect(self._soon.start)
        self.show_stage(stage)

    # -- state --------------------------------------------------------------------------------
    @property
    def stage(self) -> Stage:
        return self.lesson.stages[self.index]

    @property
    def done(self) -> int:
        return stages_done(self.settings, self.lesson.name)

    def stage_done(self, index: int) -> bool:
        return index < self.done

    def show_stage(self, index: int) -> None:
        self.index = index
        self.results = {}
        self._checked_for = None
        stage = self.stage
        self.stage_title.setText(
            f"<b>Stage {index + 1} of {len(self.lesson.stages)}: {html.escape(stage.title)}</b>"
        )
        self.explain.setMarkdown(stage.explain)
        self.task.setText(f"<b>Your task:</b> {html.escape(stage.task.strip())}")
        self.evaluate()

    def _fill_stages(self) -> None:
        """Done stages green, the current one blue, the locked ones greyed (the items are
        updated in place: this runs inside the list's own click signal too)."""
        done = self.done
        for i, stage in enumerate(self.lesson.stages):
            if self.stage_list.count() <= i:
                item = QListWidgetItem()
                item.setData(Qt.ItemDataRole.UserRole, i)
                self.stage_list.addItem(item)
            item = self.stage_list.item(i)
            state = "passed" if i < done else "running" if i == self.index else "idle"
            item.setIcon(dot_icon(state))
            locked = i > done
            item.setText(f"{i + 1}. {stage.title}" + (" (locked)" if locked else ""))
            enabled = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            item.setFlags(Qt.ItemFlag.NoItemFlags if locked else enabled)
            if i == self.index and self.stage_list.currentRow() != i:
                self.stage_list.setCurrentRow(i)

    def _stage_clicked(self, item: QListWidgetItem) -> None:
        index = int(item.data(Qt.ItemDataRole.UserRole))
        if index != self.index and index <= self.done:
            self.show_stage(index)

    # -- is the stage done? ----------------------------------------------------------------------
    def _lab_as_drawn(self) -> bool:
        live = self.live
        if not (live.running and live.connected) or live.busy or live.deployed is None:
            return False
        return not live.changes()  # the session's own cached answer, positions aside

    def evaluate(self) -> None:
        """What is missing now; runs the checks when the lab runs as drawn."""
        if not isValid(self.todo):
            return
        stage = self.stage
        unmet = drawing_unmet(stage, self.doc.topology)
        lines = [f"✗ {html.escape(s)}" for s in unmet]
        if not unmet and stage.drawing:
            lines.append("✓ the drawing is right")
        hint = ""
        if stage.checks and not unmet:
            as_drawn = self._lab_as_drawn()
            state = _kernel_side(self.live.deployed) if as_drawn and self.live.deployed else None
            if as_drawn and state != self._checked_for and not self.runner.busy:
                self._run(state)
            elif not self.live.connected:
                hint = "Start the helper (the bar above the canvas) to check the kernel."
            elif not self.live.running:
                hint = "Deploy the lab (Live → Deploy) so the kernel can be checked."
            elif not as_drawn and not self.live.busy:
                hint = "Apply your changes (Live → Deploy / Apply) so the kernel has them."
        for check in stage.checks:
            outcome = self.results.get(check.name, "idle")
            if outcome is None:
                dot, said = COLORS["running"], "checking…"
            elif outcome == "idle":
                dot, said = COLORS["idle"], "not checked yet"
            elif isinstance(outcome, Outcome) and outcome.passed:
                dot, said = COLORS["passed"], "passed"
            else:
                assert isinstance(outcome, Outcome)
                dot, said = COLORS["failed"], f"failed: {outcome.evidence}"
            lines.append(
                f'<span style="color:{dot}">●</span> {html.escape(check.name)} '
                f"<i>({html.escape(said)})</i>"
            )
        if self._stage_complete(unmet):
            set_stages_done(self.settings, self.lesson.name, self.index + 1)
        if self.stage_done(self.index):
            last = self.index == len(self.lesson.stages) - 1
            lines.append(
                "<b>Lesson complete. Well done!</b>"
                if last
                else "<b>Stage done!</b> Go on with Next stage."
            )
        elif hint:
            lines.append(f"<i>{html.escape(hint)}</i>")
        self.todo.setText("<br>".join(lines))
        self.next_button.setEnabled(
            self.stage_done(self.index) and self.index < len(self.lesson.stages) - 1
        )
        self.check_button.setEnabled(bool(stage.checks) and not self.runner.busy)
        self._fill_stages()

    def _stage_complete(self, unmet: list[str]) -> bool:
        if unmet:
            return False
        for check in self.stage.checks:
            outcome = self.results.get(check.name)
            if not (isinstance(outcome, Outcome) and outcome.passed):
                return False
        return True

    # -- the kernel checks ---------------------------------------------------------------------
    def check_now(self) -> None:
        if not self._lab_as_drawn():
            self._checked_for = None
            self.evaluate()  # says what to do first
            return
        self._run(_kernel_side(self.live.deployed) if self.live.deployed else None)

    def _run(self, state: object) -> None:
        self._checked_for = state
        jobs = [Job(check.name, check=check) for check in self.stage.checks]
        self.results = {check.name: None for check in self.stage.checks}
        self._index_run = self.index
        assert self.live.deployed is not None
        self.runner.start(jobs, self.live.deployed)
        self.evaluate()

    def _check_finished(self, name: str, outcome: Outcome) -> None:
        if self.index == self._index_run and name in self.results:
            self.results[name] = outcome
            self._soon.start()

    def _run_ended(self, why: str) -> None:
        for name, outcome in list(self.results.items()):
            if outcome is None:  # not answered: the run was cut
                self.results[name] = Outcome(name, False, why or "not run", 0.0)
        self._soon.start()

    # -- buttons -------------------------------------------------------------------------------
    def show_me(self) -> None:
        self.doc.push(
            ReplaceTopology(self.doc, self.stage.solution, f"Show me: {self.stage.title}")
        )

    def next_stage(self) -> None:
        if self.stage_done(self.index) and self.index < len(self.lesson.stages) - 1:
            self.show_stage(self.index + 1)
            # The button just went disabled: Qt would hand the focus to the next widget in
            # the chain, the inspector's lab name, and the next key (P) renamed the lab.
            self.view.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def close_run(self) -> None:
        self.runner.stop()
        self._soon.stop()

    def check_lines(self) -> list[str]:
        """Each of this stage's checks as the panel says it (tests, the README)."""
        return [f"{c.name}: {describe(c)}" for c in self.stage.checks]


# -- starting and following a lesson ----------------------------------------------------------
class LessonGuide(QObject):
    """Starts lessons in the window and ends the dock when another document is shown."""

    def __init__(self, window: MainWindow, after_start: Callable[[], None]) -> None:
        super().__init__(window)
        self.window = window
        self.after_start = after_start  # e.g. hide the welcome page
        self.panel: LessonPanel | None = None
        self.doc: Document | None = None

    def lessons(self) -> list[Lesson]:
        return available_lessons()

    def start(self, name: str, from_stage: int | None = None) -> LessonPanel | None:
        """Open lesson `name` at `from_stage` (default: the first stage not done yet)."""
        lesson = next((x for x in self.lessons() if x.name == name), None)
        w = self.window
        if lesson is None or not w.confirm_discard():
            return None
        done = stages_done(w.settings, lesson.name)
        index = min(done, len(lesson.stages) - 1) if from_stage is None else from_stage
        topology = (lesson.start if index == 0 else lesson.stages[index - 1].solution).copy()
        self.end()
        doc = Document(topology)
        self.doc = doc
        unplaced = len(topology) > 0 and all(v.position is None for _, v in topology.nodes())
        w.show_document(doc, lay_out=unplaced)
        assert w.current is not None
        self.panel = LessonPanel(lesson, index, w.current, w.connection.path, w.settings)
        w._dock(DOCK, self.panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        dock = w._docks[DOCK]
        dock.show()
        dock.raise_()
        self._first_placement(dock)
        self.after_start()
        w.statusBar().showMessage(f"Lesson: {lesson.title}", 6000)
        return self.panel

    def _first_placement(self, dock: QDockWidget) -> None:
        """Under the palette, on the canvas's left: the text is read beside the drawing
        while the inspector, on the right, stays free for the task."""
        w = self.window
        palette = w._docks.get("Palette")
        if palette is None or w.dockWidgetArea(palette) != w.dockWidgetArea(dock):
            return
        # The left column runs the window's full height while a lesson is on: room to read.
        w.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        w.splitDockWidget(palette, dock, Qt.Orientation.Vertical)
        w.resizeDocks([palette, dock], [170, max(300, w.height() - 250)], Qt.Orientation.Vertical)
        w.resizeDocks([dock], [380], Qt.Orientation.Horizontal)

    def document_shown(self) -> None:
        """Another document than the lesson's: the lesson ends (its progress stays)."""
        current = self.window.current
        if self.doc is not None and current is not None and current.doc is not self.doc:
            self.end()

    def end(self) -> None:
        if self.panel is not None:
            self.panel.close_run()
            dock = self.window._docks.get(DOCK)
            if dock is not None:
                dock.hide()
            bottom = Qt.DockWidgetArea.BottomDockWidgetArea
            self.window.setCorner(Qt.Corner.BottomLeftCorner, bottom)
        self.panel, self.doc = None, None
