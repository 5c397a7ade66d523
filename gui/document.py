"""The open document: a Topology, the file it came from, and its undo stack.

Relays the model's observer calls as Qt signals, so the scene and panels follow the
model without the model knowing about Qt."""

from __future__ import annotations

from pathlib import Path

from nstopo.model.problems import Problem
from nstopo.model.topology import Change, Topology
from nstopo.model.validate import validate
from nstopo.model.yamlfile import LoadedFile, dumps, load, save
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack


class Document(QObject):
    nodeAdded = Signal(str)
    nodeRemoved = Signal(str)
    nodeChanged = Signal(str)
    nodeRenamed = Signal(str, str)  # new, old
    linkAdded = Signal(str)
    linkRemoved = Signal(str)
    linkChanged = Signal(str)
    labChanged = Signal()
    changed = Signal()  # after any change: panels and the title follow this
    pathChanged = Signal()

    def __init__(
        self,
        topology: Topology | None = None,
        loaded: LoadedFile | None = None,
        path: Path | None = None,
    ) -> None:
        super().__init__()
        self.topology = topology if topology is not None else Topology("lab", "10.77.0.0/16")
        self.loaded, self.path = loaded, path
        # Opened from the live system: what is not nstopo's is shown greyed and read-only.
        self.foreign_nodes: set[str] = set()
        self.foreign_links: set[str] = set()
        self._problems: list[Problem] | None = None
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

    def _relay(self, change: Change) -> None:
        self._problems = None  # computed again on first use after a change
        signal = {
            "node-added": self.nodeAdded,
            "node-removed": self.nodeRemoved,
            "node-changed": self.nodeChanged,
            "link-added": self.linkAdded,
            "link-removed": self.linkRemoved,
            "link-changed": self.linkChanged,
        }.get(change.kind)
        if signal is not None:
            signal.emit(change.key)
        elif change.kind == "node-renamed":
            self.nodeRenamed.emit(change.key, change.old_key)
        elif change.kind == "lab-changed":
            self.labChanged.emit()
        self.changed.emit()

    def push(self, command: QUndoCommand) -> None:
        self.undo.push(command)

    @property
    def dirty(self) -> bool:
        return not self.undo.isClean()

    def text(self) -> str:
        """The file text as it would be saved (comments of an opened file kept)."""
        return dumps(self.topology, self.loaded)

    def save(self, path: Path | None = None) -> None:
        target = Path(path or self.path or f"{self.topology.name}.yaml")
        self.loaded = save(self.topology, target, self.loaded)
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
