"""The open document: a Topology, the file it came from, and its undo stack.

Relays the model's change sets as Qt signals, so the scene and panels follow the model
without the model knowing about Qt: `edited` once per command with what it changed
(the scene updates just those items), `changed` once per command (title, inspector),
and `problemsChanged` at most once per event-loop turn and never for moves, since
validating the whole lab is what costs."""

from __future__ import annotations

import errno
from pathlib import Path

from nstopo.model.checks import Check, Scenario
from nstopo.model.problems import Problem
from nstopo.model.topology import ChangeSet, Topology
from nstopo.model.validate import validate
from nstopo.model.yamlfile import LoadedFile, dumps, load, save
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack


class SaveError(Exception):
    """A save that failed for a reason outside nstopo, in one sentence for the user."""


def _advice(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "free some space, or save somewhere else"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "save somewhere you may write to"
    return "save somewhere else"


class Document(QObject):
    edited = Signal(object)  # the ChangeSet of one command
    changed = Signal()  # after any change (and when it becomes clean or dirty)
    problemsChanged = Signal()  # validation may say something else now (coalesced)
    pathChanged = Signal()
    checksChanged = Signal()  # the top-level checks: (an undo command changed them)

    def __init__(
        self,
        topology: Topology | None = None,
        loaded: LoadedFile | None = None,
        path: Path | None = None,
    ) -> None:
        super().__init__()
        self.topology = topology if topology is not None else Topology("lab", "10.77.0.0/16")
        self.loaded, self.path = loaded, path
        # The file's checks: and scenarios: (what the Checks panel runs and edits); not
        # part of the Topology, which is what the helper builds.
        self.checks: tuple[Check, ...] = loaded.checks if loaded is not None else ()
        self.scenarios: tuple[Scenario, ...] = loaded.scenarios if loaded is not None else ()
        # Opened from the live system: what is not nstopo's is shown greyed and read-only.
        self.foreign_nodes: set[str] = set()
        self.foreign_links: set[str] = set()
        self._problems: list[Problem] | None = None
        self._known: list[Problem] | None = None  # the next command's, checked before it
        self._revalidate = QTimer(self)  # once per event-loop turn, however many edits
        self._revalidate.setSingleShot(True)
        self._revalidate.setInterval(0)
        self._revalidate.timeout.connect(self.problemsChanged)
        self.undo = QUndoStack(self)
        self.undo.cleanChanged.connect(self._clean_changed)  # a method: Qt disconnects it
        self.topology.observe(self._relay)

    @classmethod
    def open(cls, path: Path) -> Document:
        """Raises TopologyFileError (file:line:col) for a file that cannot be read."""
        loaded = load(path)
        return cls(loaded.topology, loaded, Path(path))

    def _clean_changed(self, _clean: bool) -> None:
        self.changed.emit()

    def _relay(self, changes: ChangeSet) -> None:
        if not changes.positions_only:
            self._problems, self._known = self._known, None  # else computed on first use
            self._revalidate.start()
        self.edited.emit(changes)
        self.changed.emit()

    def set_checks(self, checks: tuple[Check, ...]) -> None:
        """For undo commands (commands.SetChecks) only: every edit is one."""
        self.checks = checks
        self.checksChanged.emit()
        self.changed.emit()

    def push(self, command: QUndoCommand, problems: list[Problem] | None = None) -> None:
        """`problems`: the validation of the document as the command leaves it, when
        the caller has just computed it (the inspector checks an edit first)."""
        self._known = problems
        try:
            self.undo.push(command)
        finally:
            self._known = None

    @property
    def dirty(self) -> bool:
        return not self.undo.isClean()

    def text(self) -> str:
        """The file text as it would be saved (comments of an opened file kept)."""
        return dumps(self.topology, self.loaded, self.checks)

    def save(self, path: Path | None = None) -> None:
        """Write the file; raises SaveError (the document stays as it was: dirty, with
        its old path and base) when the system refuses."""
        target = Path(path or self.path or f"{self.topology.name}.yaml")
        try:
            self.loaded = save(self.topology, target, self.loaded, self.checks)
        except OSError as exc:
            raise SaveError(
                f"Cannot save {target}: {(exc.strerror or str(exc)).lower()}. Nothing was "
                f"written and your changes are still open; {_advice(exc)}."
            ) from None
        if target != self.path:
            self.path = target
            self.pathChanged.emit()
        self.undo.setClean()

    def problems(self) -> list[Problem]:
        """Validation of the current document, computed once per change (the scene and
        the panels all ask)."""
        if self._problems is None:
            self._problems = validate(self.topology)
        return self._problems

    def display_name(self) -> str:
        return self.path.name if self.path else f"{self.topology.name} (unsaved)"

    def is_foreign(self, kind: str, key: str) -> bool:
        return key in (self.foreign_nodes if kind == "node" else self.foreign_links)
