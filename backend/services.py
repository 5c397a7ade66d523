"""A lab's `exec:` and `services:` (model/nodecommands.py), run by the helper as the
user who applied the lab.

Startup commands run once, in order, after an apply built or changed their node;
their outputs and exit statuses go back in the apply's answer. Services are
supervised: restarted with a doubling back-off (1 s .. 30 s; back to 1 s after a run
of a minute) when they end, their output appended to STATE/logs/LAB/NODE.log. A
destroy stops the supervisors before the lab's processes are ended; a new helper
(restart, kill -9) ends the services the old one left and starts them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pwd
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nstopo.model.nodecommands import changed_nodes, services, startup_commands
from nstopo.model.schema import topology_from_document
from nstopo.protocol import messages as m

from .identity import Identity, environment, identity_of, launcher, working_dir
from .procs import Commands, RunParams, exit_status

if TYPE_CHECKING:
    from .registry import LabRecord

log = logging.getLogger("nstopo.helper")
STARTUP_TIMEOUT = 120.0  # s for one startup command
BACKOFF_FIRST, BACKOFF_MAX, STEADY_RUN = 1.0, 30.0, 60.0
LOG_LIMIT = 4 << 20  # bytes per node's log; then it restarts as NODE.log, the old .1
Key = tuple[str, int, str]  # (node, index, command)


class NodeCommands:
    def __init__(self, commands: Commands, state_dir: Path) -> None:
        self.commands = commands
        self.logs = state_dir / "logs"
        self._supervisors: dict[str, dict[Key, asyncio.Task[None]]] = {}
        self._stopped: set[str] = set()  # labs being destroyed: no more restarts
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- after apply ----------------------------------------------------------------------
    async def after_apply(
        self, lab: str, before: dict[str, Any] | None, after: dict[str, Any], who: Identity
    ) -> list[m.StartupResult]:
        """Run the startup commands of new or changed nodes; (re)start services."""
        self._loop = asyncio.get_running_loop()
        topology = topology_from_document(after)
        changed = changed_nodes(before, after)
        results: list[m.StartupResult] = []
        failed_nodes: set[str] = set()
        for item in startup_commands(topology):
            if item.node not in changed or item.node in failed_nodes:
                continue
            params = RunParams(lab, item.node, ["sh", "-c", item.command], STARTUP_TIMEOUT)
            done = await self.commands.run_as(params, item.node, who, "startup")
            results.append({"node": item.node, "command": item.command, **done})
            if done["status"] != 0:
                failed_nodes.add(item.node)  # the node's later commands may need this one
        self.sync(lab, after, who)
        return results

    def sync(self, lab: str, document: dict[str, Any], who: Identity) -> None:
        """Supervise exactly the lab's services (a changed command is a new service)."""
        with self._lock:
            self._stopped.discard(lab)
        wanted = {(s.node, s.index, s.command) for s in services(topology_from_document(document))}
        running = self._supervisors.setdefault(lab, {})
        for key in list(running):
            if key not in wanted:
                running.pop(key).cancel()
        for key in sorted(wanted - set(running)):
            task = asyncio.create_task(self._supervise(lab, key, who))
            running[key] = task

    # -- destroy and restart ----------------------------------------------------------------
    def stop_lab(self, record: LabRecord) -> None:
        """Before a destroy (a worker thread): no service of the lab restarts from now on;
        the destroy then ends their processes with the lab's others."""
        with self._lock:
            self._stopped.add(record.name)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._cancel, record.name)

    async def before_apply(
        self, lab: str, before: dict[str, Any] | None, after: dict[str, Any]
    ) -> None:
        """The nodes an apply will remove: their services stop and their processes end
        first (a namespace lives on while a process is in it)."""
        gone = set((before or {}).get("nodes", {})) - set(after.get("nodes", {}))
        if not gone:
            return
        running = self._supervisors.get(lab, {})
        for key in [k for k in running if k[0] in gone]:
            running.pop(key).cancel()
        await asyncio.to_thread(self.commands.table.end, lab, None, gone)

    def _cancel(self, lab: str) -> None:
        for task in self._supervisors.pop(lab, {}).values():
            task.cancel()

    async def resume(self, labs: dict[str, LabRecord]) -> None:
        """At start: the services a previous helper left are ended and started again,
        as the lab's owner (who applied it)."""
        self._loop = asyncio.get_running_loop()
        for name, record in labs.items():
            if record.topology is None or not services(topology_from_document(record.topology)):
                continue
            await asyncio.to_thread(self.commands.table.end, name, ("service",))
            self.sync(name, record.topology, owner_identity(record.owner_uid))

    # -- one service ------------------------------------------------------------------------
    async def _supervise(self, lab: str, key: Key, who: Identity) -> None:
        node, _, command = key
        delay = BACKOFF_FIRST
        path = self.logs / lab / f"{node}.log"
        while True:
            with self._lock:
                if lab in self._stopped:
                    return
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _rotate(path)
            started = time.monotonic()
            with open(path, "ab", buffering=0) as out:
                code = await self._run_once(lab, node, command, who, out)
                ran = time.monotonic() - started
                delay = BACKOFF_FIRST if ran >= STEADY_RUN else delay
                out.write(f"[nstopo] {command!r} ended with status {code}; restarting in "
                          f"{delay:g} s\n".encode())  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _run_once(self, lab: str, node: str, command: str, who: Identity, out: Any) -> int:
        argv = ["sh", "-c", command]
        try:
            proc = await asyncio.create_subprocess_exec(
                *launcher(node, who, argv, self.commands.net_caps),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True, env=environment(who, lab, node), cwd=working_dir(who),
            )  # fmt: skip
        except OSError as exc:
            out.write(f"[nstopo] cannot start {command!r}: {exc}\n".encode())
            return 127
        self.commands._record(lab, node, node, proc.pid, who, "service", argv)
        out.write(f"[nstopo] started {command!r} as pid {proc.pid}\n".encode())
        try:
            return exit_status(await proc.wait())
        except asyncio.CancelledError:  # no longer in the file: the service ends
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            raise

    def read_log(self, lab: str, node: str, offset: int) -> m.LogsResult:
        path = self.logs / lab / f"{node}.log"
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if offset > size:
                    offset = 0  # rotated since: from the new file's start
                f.seek(max(offset, size - 256_000))
                data = f.read(256_000)
                return {"text": data.decode(errors="replace"), "offset": f.tell()}
        except FileNotFoundError:
            return {"text": "", "offset": 0}


def owner_identity(uid: int) -> Identity:
    try:
        gid = pwd.getpwuid(uid).pw_gid
    except KeyError:
        gid = uid
    return identity_of(uid, gid, pid=-1)


def _rotate(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size > LOG_LIMIT:
            os.replace(path, path.with_name(path.name + ".1"))
