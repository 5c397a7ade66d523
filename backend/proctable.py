"""Every process nstopo started in a lab, found again after a helper restart or kill -9.

Each command starts as the leader of a new session (setsid), so it and everything it
starts (`sleep 100 &`) share its session id. The table records per lab the sessions
(leader pid + its start time) in the state dir, written atomically before the command
runs. A lab's processes are then those whose session id is recorded for the lab AND
whose network namespace is one of the lab's: a session id stays allocated while any
member lives (the kernel does not reuse it), and the namespace test keeps a reused
number outside the lab from ever matching. A process that calls setsid itself leaves
the session: destroy still reports it among the namespace's users (and --force ends it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("nstopo.helper")
TERM_GRACE = 2.0  # seconds between SIGTERM and SIGKILL at destroy


@dataclass
class Started:
    sid: int  # the leader's pid, which is the session id
    start: int  # the leader's start time (clock ticks since boot, /proc/PID/stat)
    node: str
    namespace: str
    kind: str  # exec | shell | service | startup
    uid: int
    argv: list[str]


@dataclass(frozen=True)
class Member:
    pid: int
    sid: int
    start: int
    ns: tuple[int, int]  # (st_dev, st_ino) of its network namespace


def proc_stat(pid: int, zombies: bool = False) -> tuple[int, int] | None:
    """(session id, start time) of a live process, None if it is gone (or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X") and not zombies:
        return None
    return int(fields[3]), int(fields[19])  # fields 6 and 22 of proc(5)


def scan() -> list[Member]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        found = proc_stat(pid)
        if found is None:
            continue
        try:
            st = os.stat(f"/proc/{pid}/ns/net")
        except OSError:
            continue
        members.append(Member(pid, found[0], found[1], (st.st_dev, st.st_ino)))
    return members


class ProcessTable:
    def __init__(self, state_dir: Path, run_dir: Path) -> None:
        self.path = state_dir / "processes.json"
        self.run_dir = run_dir
        self._lock = threading.Lock()
        self.labs: dict[str, list[Started]] = {}
        with contextlib.suppress(FileNotFoundError):
            data = json.loads(self.path.read_text())
            for lab, items in data.get("labs", {}).items():
                self.labs[lab] = [Started(**item) for item in items]

    def _save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        data = {"labs": {lab: [asdict(x) for x in items] for lab, items in self.labs.items()}}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)

    def add(self, lab: str, started: Started) -> None:
        with self._lock:
            self.labs.setdefault(lab, []).append(started)
            self._save()

    def _namespace_ids(self, lab: str) -> dict[tuple[int, int], str]:
        ids = {}
        for item in self.labs.get(lab, []):
            with contextlib.suppress(OSError):
                st = os.stat(self.run_dir / item.namespace)
                ids[(st.st_dev, st.st_ino)] = item.namespace
        return ids

    def members(
        self, lab: str, members: list[Member] | None = None
    ) -> list[tuple[Started, Member]]:
        """The live processes of the lab's recorded sessions, each with its session."""
        sessions = {item.sid: item for item in self.labs.get(lab, [])}
        if not sessions:
            return []
        spaces = self._namespace_ids(lab)
        found = []
        for member in scan() if members is None else members:
            item = sessions.get(member.sid)
            if item is None or member.ns not in spaces:
                continue
            if member.pid == item.sid and member.start != item.start:
                continue  # not the leader we started (cannot happen while sid lives)
            found.append((item, member))
        return found

    def listing(self, lab: str) -> list[dict[str, Any]]:
        """What `nstopo status` shows; sessions with no live member are forgotten."""
        live = self.members(lab)
        alive = {item.sid for item, _ in live}
        with self._lock:
            before = self.labs.get(lab, [])
            kept = [item for item in before if item.sid in alive]
            if len(kept) != len(before):
                self._set(lab, kept)
        return [
            {"pid": m.pid, "session": item.sid, "node": item.node, "kind": item.kind,
             "uid": item.uid, "argv": item.argv if m.pid == item.sid else []}
            for item, m in live
        ]  # fmt: skip

    def _set(self, lab: str, items: list[Started]) -> None:
        if items:
            self.labs[lab] = items
        else:
            self.labs.pop(lab, None)
        try:
            self._save()
        except OSError as exc:
            log.warning("cannot save the process table: %s", exc)

    def end(
        self, lab: str, kinds: tuple[str, ...] | None = None, nodes: set[str] | None = None
    ) -> list[int]:
        """TERM every process of the lab (or of its sessions of `kinds`, or on `nodes`),
        wait up to TERM_GRACE, then KILL what is left; returns the pids that were ended."""

        def chosen(item: Started) -> bool:
            return (kinds is None or item.kind in kinds) and (nodes is None or item.node in nodes)

        targets = [(item, m) for item, m in self.members(lab) if chosen(item)]
        pids = [m.pid for _, m in targets]
        for pid in pids:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + TERM_GRACE
        remaining = set(pids)
        while remaining and time.monotonic() < deadline:
            time.sleep(0.02)
            remaining = {p for p in remaining if _same(p, targets)}
        for pid in remaining:
            _signal(pid, signal.SIGKILL)
        with self._lock:
            keep = [x for x in self.labs.get(lab, []) if not chosen(x)]
            self._set(lab, keep)
        return pids


def _same(pid: int, targets: list[tuple[Started, Member]]) -> bool:
    """Still the process we signalled (alive, same start time)?"""
    now = proc_stat(pid)
    return now is not None and any(m.pid == pid and m.start == now[1] for _, m in targets)


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
