"""Autosaves: the unsaved text of the open document, written every 30 s to a file of
its own, removed when the document is saved, discarded or closed. Each file names the
editor process that wrote it, so crash recovery offers only autosaves whose editor is
gone (one still running, or one that closed normally, leaves nothing to recover)."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import threading
from pathlib import Path

from nstopo.model.checks import Check
from nstopo.model.topology import Topology
from nstopo.model.yamlfile import LoadedFile, dumps
from PySide6.QtCore import QObject, Signal

HEADER = re.compile(r"# nstopo autosave of .* \(editor pid (\d+)\)")
_untitled = itertools.count(1)


def autosave_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "nstopo" / "autosave"


class Autosave(QObject):
    """The autosave file of one document (its name is fixed at the first write, so a
    renamed lab does not leave its old autosave behind)."""

    failed = Signal(str)  # a background write failed: why, in words
    written = Signal()

    def __init__(self, path: Path | None, lab: str) -> None:
        super().__init__()
        key = str(path.resolve()) if path else f"untitled-{os.getpid()}-{next(_untitled)}"
        digest = hashlib.sha1(key.encode()).hexdigest()[:12]
        self.file = autosave_dir() / f"{lab}-{digest}.yaml"
        self.origin = path
        self._lock = threading.Lock()  # a write and the drop never cross
        self._dropped = False
        self._worker: threading.Thread | None = None

    def write(self, text: str) -> None:
        """Atomically: a failed write (disk full) leaves the previous autosave whole.
        Nothing is written once dropped. Raises OSError."""
        header = f"# nstopo autosave of {self.origin or 'an unsaved lab'} "
        header += f"(editor pid {os.getpid()})\n"
        tmp = self.file.with_name(f".{self.file.name}.tmp")
        with self._lock:
            if self._dropped:
                return
            self.file.parent.mkdir(parents=True, exist_ok=True)
            try:
                tmp.write_text(header + text, encoding="utf-8")
                tmp.replace(self.file)
            except OSError:
                tmp.unlink(missing_ok=True)
                raise

    def write_in_background(
        self, topology: Topology, base: LoadedFile | None, checks: tuple[Check, ...] | None = None
    ) -> bool:
        """Make the text of (a copy of) `topology` (and `checks`, immutable) and write it
        in a worker thread; the outcome arrives as `written` or `failed`. False: the
        last one is still busy."""
        if self._worker is not None and self._worker.is_alive():
            return False
        snapshot = topology.copy()
        self._worker = threading.Thread(
            target=self._work, args=(snapshot, base, checks), name="nstopo-autosave", daemon=True
        )
        self._worker.start()
        return True

    def _work(
        self, snapshot: Topology, base: LoadedFile | None, checks: tuple[Check, ...] | None
    ) -> None:
        try:
            self.write(dumps(snapshot, base, checks))
        except OSError as exc:
            self.failed.emit((exc.strerror or str(exc)).lower())
        except Exception as exc:  # a bug must not end the editor: the user is told
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.written.emit()

    def wait(self, seconds: float = 10.0) -> None:
        """Until the background write is done (tests, quitting)."""
        if self._worker is not None:
            self._worker.join(seconds)

    def drop(self) -> None:
        with self._lock:
            self._dropped = True
            # A folder that became read-only keeps it: it is offered at the next start.
            with contextlib.suppress(OSError):
                self.file.unlink(missing_ok=True)


def recoverable() -> list[Path]:
    """Autosaves left by an editor that did not close normally (its process is gone)."""
    folder = autosave_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.yaml") if not _writer_alive(p))


def _writer_alive(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as stream:
            found = HEADER.match(stream.readline())
    except (OSError, UnicodeDecodeError):
        return False
    if found is None:
        return False  # an older autosave without its editor's pid
    pid = int(found.group(1))
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True
