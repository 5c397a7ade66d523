"""The Checks dock: the document's checks: and scenarios:, run against the running lab
(all, or the selected one) with a live verdict per row (grey not run, blue running,
green passed, red failed), the evidence of the selected one, its nodes ringed on the
canvas; and the check editor: a ping check from the ping tool's two clicks, a check's
name and expectation, removal, each one undoable edit of the document (saved to the
file's checks:)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from nstopo.backend.checkrunner import Outcome
from nstopo.model.checks import (
    VERDICTS_BY_KIND,
    Check,
    Expectation,
    PingProbe,
    texts,
    validate_suite,
)
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGraphicsItem,
    QGraphicsPathItem,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from .checkrun import CheckRun, Job, describe
from .commands import SetChecks
from .docview import DocumentView

COLORS = {
    "idle": "#9aa4b2",
    "running": "#3b82f6",
    "passed": "#2e9d4f",
    "failed": "#d64541",
}
WORDS = {"idle": "not run", "running": "running…", "passed": "passed", "failed": "FAILED"}


@dataclass
class Result:
    state: str  # idle | running | passed | failed
    subject: object  # the Check or Scenario it was run as (an edited one starts afresh)
    outcome: Outcome | None = None
    steps: list[str] | None = None  # a scenario's lines, as they came


def dot_icon(state: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(COLORS[state]))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(QRectF(2, 2, 10, 10))
    painter.end()
    return QIcon(pixmap)


class ChecksPanel(QWidget):
    arm_requested = Signal()  # "Add ping check": the window arms the ping tool for a check

    def __init__(self, view: DocumentView, socket_path: str) -> None:
        super().__init__()
        self.view, self.doc, self.live = view, view.doc, view.live
        self.results: dict[str, Result] = {}
        self.runner = CheckRun(socket_path)
        self.runner.started.connect(self._started)
        self.runner.step.connect(self._step)
        self.runner.finished.connect(self._finished)
        self.runner.ended.connect(self._ended)
        self._halos: list[QGraphicsPathItem] = []

        self.run_all_button = QPushButton("Run all")
        self.run_all_button.setToolTip("Run every check and scenario against the running lab")
        self.run_all_button.clicked.connect(self.run_all)
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the selected check or scenario")
        self.run_button.clicked.connect(self.run_selected)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.runner.stop)
        self.add_button = QPushButton("Add ping check")
        self.add_button.setToolTip(
            "Then click the node to ping from and the node to ping (or the canvas, to type "
            "an address): the check expects a reply"
        )
        self.add_button.clicked.connect(self.arm_requested)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(("Check", "Result"))
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(lambda *_: self._current_changed())
        self.tree.itemDoubleClicked.connect(lambda *_: self.run_selected())
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("the check's name")
        self.name_edit.editingFinished.connect(self._name_edited)
        self.expect_box = QComboBox()
        self.expect_box.activated.connect(lambda _i: self._expect_edited())
        self.contains_edit = QLineEdit()
        self.contains_edit.setPlaceholderText("text the output must contain (several: a | b)")
        self.contains_edit.editingFinished.connect(self._contains_edited)
        self.evidence = QPlainTextEdit()
        self.evidence.setReadOnly(True)
        mono = QFont("DejaVu Sans Mono")
        mono.setPixelSize(11)
        self.evidence.setFont(mono)

        buttons = QHBoxLayout()
        for button in (self.run_all_button, self.run_button, self.stop_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        self.editor = QWidget()
        form = QFormLayout(self.editor)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name", self.name_edit)
        form.addRow("Expect", self.expect_box)
        form.addRow("Contains", self.contains_edit)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.editor)
        column.addWidget(self.evidence, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tree)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)

        self.doc.checksChanged.connect(self.rebuild)
        self.doc.problemsChanged.connect(self.rebuild)
        self.live.changed.connect(self._refresh_buttons)
        view.scene.ping_check_requested.connect(self.add_ping_check)
        self.rebuild()

    # -- the list ------------------------------------------------------------------------------
    def subjects(self) -> list[tuple[str, object]]:
        """(key, Check or Scenario) in the panel's order."""
        out: list[tuple[str, object]] = [(f"check:{c.name}", c) for c in self.doc.checks]
        out += [(f"scenario:{s.name}", s) for s in self.doc.scenarios]
        return out

    def rebuild(self) -> None:
        if not isValid(self.tree):
            return
        current = self.current_key()
        problems = self._problems()
        self.tree.clear()
        keep: dict[str, Result] = {}
        for key, subject in self.subjects():
            result = self.results.get(key)
            if result is None or result.subject != subject:
                result = Result("idle", subject)
            keep[key] = result
            text = subject.name if isinstance(subject, Check) else f"scenario: {subject.name}"
            item = QTreeWidgetItem([text, ""])
            item.setData(0, Qt.ItemDataRole.UserRole, key)
            tip = describe(subject) if isinstance(subject, Check) else f"{len(subject.steps)} steps"
            item.setToolTip(0, tip)
            self.tree.addTopLevelItem(item)
            self._show(item, result, problems.get(key))
            for line in result.steps or ():
                _step_row(item, line)
            if key == current:
                self.tree.setCurrentItem(item)
        self.results = keep
        self._refresh_buttons()
        self._current_changed()

    def _problems(self) -> dict[str, str]:
        """What is wrong with each check or scenario (a node it names is gone, ...)."""
        topo = self.doc.topology
        ends = {ep.short for _, link in topo.links() for ep in link.endpoints}
        found = validate_suite(self.doc.checks, self.doc.scenarios, set(topo.node_names()), ends)
        out: dict[str, str] = {}
        for problem in found:
            if problem.is_error and len(problem.path) >= 2:
                group, index = str(problem.path[0]), int(problem.path[1])
                items = self.doc.checks if group == "checks" else self.doc.scenarios
                if index < len(items):
                    prefix = "check" if group == "checks" else "scenario"
                    out.setdefault(f"{prefix}:{items[index].name}", problem.message)
        return out

    def _show(self, item: QTreeWidgetItem, result: Result, problem: str | None = None) -> None:
        item.setIcon(0, dot_icon(result.state))
        words = WORDS[result.state]
        if result.outcome is not None and result.state in ("passed", "failed"):
            words += f" ({result.outcome.seconds:.1f} s)"
        if problem:
            words = f"cannot run: {problem}"
        item.setText(1, words)
        item.setForeground(1, QColor(COLORS[result.state]))
        item.setToolTip(1, problem or (result.outcome.evidence if result.outcome else ""))

    def item_of(self, key: str) -> QTreeWidgetItem | None:
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item.data(0, Qt.ItemDataRole.UserRole) == key:
                return item
        return None

    def current_key(self) -> str | None:
        item = self.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def state_of(self, name: str) -> str:
        """A check's (or "scenario:NAME") state: idle, running, passed or failed."""
        key = name if name.startswith("scenario:") else f"check:{name}"
        result = self.results.get(key)
        return result.state if result is not None else "idle"

    # -- running -------------------------------------------------------------------------------
    def run_all(self) -> bool:
        return self._run([key for key, _ in self.subjects()])

    def run_selected(self) -> bool:
        key = self.current_key()
        return self._run([key]) if key is not None else False

    def _run(self, keys: list[str]) -> bool:
        if self.runner.busy:
            self.status.setText("A run is going on; Stop it first.")
            return False
        if not keys:
            self.status.setText("This lab has no checks yet: Add ping check, or write them "
                                "under checks: in the file.")  # fmt: skip
            return False
        if not (self.live.running and self.live.connected):
            self.status.setText("The lab is not running: Deploy it (Live → Deploy), then run.")
            return False
        subjects = dict(self.subjects())
        named = {c.name: c for c in self.doc.checks}
        jobs = []
        for key in keys:
            subject = subjects[key]
            if isinstance(subject, Check):
                jobs.append(Job(key, check=subject))
            else:
                jobs.append(Job(key, scenario=subject, named=named))  # type: ignore[arg-type]
            self.results[key] = Result("running", subject, steps=[])
            item = self.item_of(key)
            if item is not None:
                item.takeChildren()  # the last run's steps
            self._update(key)
        running = self.live.deployed or self.doc.topology
        base = self.doc.path.parent if self.doc.path is not None else Path.cwd()
        self.runner.start(jobs, running, base)
        stale = " (the lab runs an older drawing: Apply to check this one)"
        self.status.setText(f"Running {len(jobs)}…" + (stale if self.live.pending_steps else ""))
        self._refresh_buttons()
        return True

    def _update(self, key: str) -> None:
        item = self.item_of(key)
        result = self.results.get(key)
        if item is not None and result is not None:
            self._show(item, result)
            if item is self.tree.currentItem():
                self._current_changed()

    def _started(self, key: str) -> None:
        if key in self.results:
            self.results[key].state = "running"
            self._update(key)

    def _step(self, key: str, step: object) -> None:
        result = self.results.get(key)
        if result is None or result.steps is None:
            return
        # A check of the scenario (named alone: the scenario is the row above), or an action.
        line = step.line(step.name) if isinstance(step, Outcome) else f"  -- {step}"
        result.steps.append(line)
        item = self.item_of(key)
        if item is not None:
            _step_row(item, line)
        self._update(key)

    def _finished(self, key: str, outcome: Outcome) -> None:
        result = self.results.get(key)
        if result is None:
            return
        result.outcome = outcome
        result.state = "passed" if outcome.passed else "failed"
        self._update(key)

    def _ended(self, why: str) -> None:
        for key, result in self.results.items():
            if result.state == "running":  # cut by Stop, or the helper went away
                result.state = "idle"
                self._update(key)
        passed = sum(r.state == "passed" for r in self.results.values())
        failed = sum(r.state == "failed" for r in self.results.values())
        said = f"{passed} passed, {failed} failed"
        self.status.setText(f"{said}; {why}" if why else said)
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        if not isValid(self.run_all_button):
            return
        busy = self.runner.busy
        running = self.live.running and self.live.connected
        why = "" if running else " (deploy the lab first)"
        self.run_all_button.setEnabled(not busy)
        self.run_all_button.setToolTip("Run every check and scenario against the running lab" + why)
        self.run_button.setEnabled(not busy and self.current_key() is not None)
        self.stop_button.setEnabled(busy)
        key = self.current_key()
        self.remove_button.setEnabled(key is not None and key.startswith("check:"))

    # -- the selected one: evidence, editor, its nodes on the canvas --------------------------
    def selected_check(self) -> Check | None:
        key = self.current_key()
        subject = dict(self.subjects()).get(key) if key else None
        return subject if isinstance(subject, Check) else None

    def _current_changed(self) -> None:
        key = self.current_key()
        subject = dict(self.subjects()).get(key) if key else None
        result = self.results.get(key) if key else None
        self._refresh_buttons()
        check = subject if isinstance(subject, Check) else None
        self.editor.setEnabled(check is not None)
        self.name_edit.setText(check.name if check else "")
        self._fill_expect(check)
        lines: list[str] = []
        if isinstance(subject, Check):
            lines.append(describe(subject))
        elif subject is not None:
            lines.append(f"scenario {subject.name}: {len(subject.steps)} steps")
        if result is not None:
            if result.outcome is not None:
                o = result.outcome
                verdict = "PASSED" if o.passed else "FAILED"
                lines += ["", f"{verdict} in {o.seconds:.1f} s ({o.tries} tries)", o.evidence]
            elif result.state == "running":
                lines += ["", "running…"]
            if result.steps:
                lines += ["", *result.steps]
        self.evidence.setPlainText("\n".join(lines))
        self._ring(self._nodes_of(subject))

    def _nodes_of(self, subject: object) -> list[str]:
        if isinstance(subject, Check):
            return subject.nodes()
        named = {c.name: c for c in self.doc.checks}
        nodes: list[str] = []
        for step in getattr(subject, "steps", ()):
            if step.link is not None:
                nodes.append(step.link.partition(":")[0])
            check = named.get(step.check) if isinstance(step.check, str) else step.check
            if isinstance(check, Check):
                nodes += check.nodes()
        return nodes

    def _ring(self, nodes: list[str]) -> None:
        """Ring the nodes the selected check touches (child items: they move with them)."""
        for halo in self._halos:
            if isValid(halo) and halo.scene() is not None:
                halo.scene().removeItem(halo)
        self._halos = []
        if not isValid(self.view.scene):
            return
        key = self.current_key()
        result = self.results.get(key) if key else None
        color = QColor(COLORS[result.state if result is not None else "idle"])
        color.setAlpha(170)
        for name in dict.fromkeys(nodes):
            item = self.view.scene.nodes.get(name)
            if item is None:
                continue
            path = QPainterPath()
            path.addRoundedRect(item.shape_rect().adjusted(-7, -7, 7, 7), 9, 9)
            halo = QGraphicsPathItem(path, item)
            halo.setPen(QPen(color, 5))
            halo.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)
            self._halos.append(halo)

    def ringed(self) -> list[str]:
        """The nodes ringed on the canvas now."""
        return [h.parentItem().name for h in self._halos if isValid(h)]  # type: ignore[union-attr]

    # -- the check editor ----------------------------------------------------------------------
    def _fill_expect(self, check: Check | None) -> None:
        self.expect_box.clear()
        self.contains_edit.setText("")
        if check is None:
            return
        verdicts = sorted(VERDICTS_BY_KIND.get(check.kind, ()))
        self.expect_box.setEnabled(bool(verdicts))
        self.contains_edit.setEnabled(check.kind in ("exec", "capture"))
        if verdicts:
            self.expect_box.addItems(verdicts)
            default = "reply" if check.kind == "ping" else "present"
            current = check.expect if isinstance(check.expect, str) else default
            self.expect_box.setCurrentText(current)
        if isinstance(check.expect, Expectation):
            contains = check.expect.contains
            self.contains_edit.setText(
                contains if isinstance(contains, str) else ", ".join(contains)
            )

    def _replace(self, old: Check, new: Check, text: str) -> None:
        checks = tuple(new if c is old else c for c in self.doc.checks)
        self.doc.push(SetChecks(self.doc, checks, text))

    def _name_edited(self) -> None:
        check = self.selected_check()
        name = self.name_edit.text().strip()
        if check is None or name == check.name:
            return
        if not name or name in {c.name for c in self.doc.checks}:
            self.status.setText(
                f'Another check is called "{name}"; give each its own name.'
                if name
                else "A check needs a name."
            )
            self.name_edit.setText(check.name)
            return
        self._replace(check, replace(check, name=name), f"Rename check {check.name}")
        self._select(f"check:{name}")

    def _expect_edited(self) -> None:
        check = self.selected_check()
        verdict = self.expect_box.currentText()
        if check is None or not verdict:
            return
        default = "reply" if check.kind == "ping" else "present"
        was = check.expect if isinstance(check.expect, str) else default
        if verdict != was:
            new = replace(check, expect=None if verdict == default else verdict)
            self._replace(check, new, f"Check {check.name}: expect {verdict}")

    def _contains_edited(self) -> None:
        check = self.selected_check()
        if check is None or check.kind not in ("exec", "capture"):
            return
        words = tuple(w.strip() for w in self.contains_edit.text().split("|") if w.strip())
        expect = check.expect if isinstance(check.expect, Expectation) else Expectation()
        if texts(expect.contains) == words:
            return
        new = replace(check, expect=replace(expect, contains=words))
        self._replace(check, new, f"Check {check.name}: expect its output")

    def _select(self, key: str) -> None:
        item = self.item_of(key)
        if item is not None:
            self.tree.setCurrentItem(item)

    def remove_selected(self) -> None:
        check = self.selected_check()
        if check is not None:
            checks = tuple(c for c in self.doc.checks if c is not check)
            self.doc.push(SetChecks(self.doc, checks, f"Remove check {check.name}"))

    def ask_address(self, source: str) -> str | None:
        """The address a check pings when the second click was not on a node."""
        text, ok = QInputDialog.getText(self, "Ping check", f"Check a ping from {source} to:")
        return text.strip() if ok and text.strip() else None

    def add_ping_check(self, source: str, target: str) -> str | None:
        """The ping tool's two clicks: a check that `source` gets replies from `target`
        (a node; "" asks an address). Returns its name."""
        target = target or self.ask_address(source) or ""
        if not target:
            return None
        taken = {c.name for c in self.doc.checks}
        name = base = f"{source} reaches {target}"
        number = 2
        while name in taken:
            name, number = f"{base} ({number})", number + 1
        check = Check(name=name, ping=PingProbe(source=source, to=target))
        self.doc.push(SetChecks(self.doc, (*self.doc.checks, check), f"Add check {name}"))
        self._select(f"check:{name}")
        self.status.setText(f'Added the check "{name}"; Run it, or edit its expectation.')
        return name

    def close_run(self) -> None:
        """The document goes: its run ends with it."""
        self.runner.stop()
        for halo in self._halos:
            if isValid(halo) and halo.scene() is not None:
                halo.scene().removeItem(halo)
        self._halos = []


def _step_row(scenario: QTreeWidgetItem, line: str) -> None:
    """A scenario's step under its row: an action done, or a check's PASS/FAIL."""
    first, _, rest = line.partition("\n")
    child = QTreeWidgetItem([first, ""])
    if first.startswith(("PASS", "FAIL")):
        child.setIcon(0, dot_icon("passed" if first.startswith("PASS") else "failed"))
        child.setToolTip(0, rest.strip())
    scenario.addChild(child)
    scenario.setExpanded(True)
