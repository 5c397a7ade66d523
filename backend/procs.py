"""Commands in a lab's nodes: `exec.run` (output and exit status) and `exec.pty` (an
interactive terminal whose pty master is handed to the client with SCM_RIGHTS).

A node's command runs in the namespace the node is (netns) or lives in (bridge, tap,
tun in a netns), only in a running lab the caller may change, as the caller
(identity.py). Every command starts a session recorded in the process table, so
destroy ends it and everything it started (proctable.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import socket
import struct
import termios
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from nstopo.model.schema import topology_from_document
from nstopo.model.types import STRICT
from nstopo.protocol import messages as m
from nstopo.protocol.errors import ErrorCode, RpcError
from pydantic import Field

from . import jsonrpc as rpc
from .identity import Identity, environment, identity_of, launcher, working_dir
from .proctable import ProcessTable, Started, proc_stat
from .realizer import tag_for

if TYPE_CHECKING:
    from .labs import LabService

Name = Annotated[str, Field(max_length=256)]
Arg = Annotated[str, Field(max_length=65536)]
OUTPUT_LIMIT = 400_000  # bytes of stdout + stderr kept: the answer must fit one message
DRAIN_AFTER_EXIT = 0.1  # s to read what the command wrote, once it has exited


@dataclass(frozen=True)
class RunParams:
    __pydantic_config__ = STRICT
    lab: Name
    node: Name
    argv: Annotated[list[Arg], Field(min_length=1, max_length=4096)]
    timeout: Annotated[float, Field(gt=0, le=86400)] | None = None
    stdin: Annotated[str, Field(max_length=500_000)] | None = None
    env: dict[Name, Arg] | None = None


@dataclass(frozen=True)
class PtyParams:
    __pydantic_config__ = STRICT
    lab: Name
    node: Name
    argv: Annotated[list[Arg], Field(max_length=4096)] | None = None
    rows: Annotated[int, Field(ge=1, le=1000)] = 24
    cols: Annotated[int, Field(ge=1, le=1000)] = 80
    env: dict[Name, Arg] | None = None


@dataclass(frozen=True)
class LogsParams:
    __pydantic_config__ = STRICT
    lab: Name
    node: Name
    offset: Annotated[int, Field(ge=0)] = 0


@dataclass(frozen=True)
class WaitParams:
    __pydantic_config__ = STRICT
    pid: int


def exit_status(returncode: int) -> int:
    """A shell's convention: the exit code, or 128 + the signal that ended it."""
    return 128 - returncode if returncode < 0 else returncode


class Commands:
    def __init__(self, service: LabService, table: ProcessTable, net_caps: bool = True) -> None:
        self.service, self.table, self.net_caps = service, table, net_caps
        self._ptys: dict[int, tuple[int, asyncio.Future[int]]] = {}  # pid -> (uid, status)
        self._reapers: set[asyncio.Task[None]] = set()

    # -- where and as whom --------------------------------------------------------------
    def namespace_of(self, lab: str, node: str, uid: int) -> str:
        """The node's namespace, if the caller may run commands there (a LabError or
        RpcError saying why not)."""
        record = self.service.registry.labs.get(lab)
        if record is None or record.topology is None:
            raise RpcError(
                ErrorCode.NO_SUCH_LAB,
                f'there is no running lab "{lab}"; nstopo status lists the running ones',
            )
        self.service._check_may_change(record, uid)
        found = topology_from_document(record.topology).get_node(node)
        if found is None:
            raise RpcError(ErrorCode.INVALID_PARAMS, f'lab "{lab}" has no node "{node}"')
        namespace = node if found.kind == "netns" else getattr(found, "namespace", None)
        if namespace is None:
            raise RpcError(
                ErrorCode.INVALID_PARAMS,
                f'node "{node}" is in the host namespace; nstopo runs commands only in '
                "the lab's own namespaces",
            )
        if not record.owns_namespace(namespace) or (
            self.service.realizer.namespace_tag(namespace) != tag_for(lab)
        ):
            raise RpcError(
                ErrorCode.NOT_OWNED,
                f'namespace "{namespace}" is not recorded and tagged as lab "{lab}"\'s',
            )
        return namespace

    async def _prepare(self, lab: str, node: str, session: rpc.Session) -> tuple[str, Identity]:
        namespace = await asyncio.to_thread(self.namespace_of, lab, node, session.uid)
        return namespace, identity_of(session.uid, session.gid, session.pid)

    def _record(
        self, lab: str, node: str, ns: str, pid: int, who: Identity, kind: str, argv: list[str]
    ) -> None:
        found = proc_stat(pid, zombies=True)
        start = found[1] if found else 0
        self.table.add(lab, Started(pid, start, node, ns, kind, who.uid, list(argv)))

    # -- exec.run -------------------------------------------------------------------------
    async def run(self, params: RunParams, session: rpc.Session) -> m.ExecResult:
        ns, who = await self._prepare(params.lab, params.node, session)
        return await self.run_as(params, ns, who)

    async def run_as(
        self, params: RunParams, ns: str, who: Identity, kind: str = "exec"
    ) -> m.ExecResult:
        """`params.argv` in namespace `ns` as `who` (the caller checked both)."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *launcher(ns, who, list(params.argv), self.net_caps),
                stdin=asyncio.subprocess.PIPE if params.stdin is not None else
                asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                env=environment(who, params.lab, params.node, params.env),
                cwd=working_dir(who),
            )  # fmt: skip
        except OSError as exc:
            raise RpcError(ErrorCode.INTERNAL_ERROR, f"cannot start the command: {exc}") from None
        self._record(params.lab, params.node, ns, proc.pid, who, kind, list(params.argv))
        kept = _Output(OUTPUT_LIMIT)
        assert proc.stdout is not None and proc.stderr is not None
        readers = [
            asyncio.create_task(kept.read(proc.stdout, kept.out)),
            asyncio.create_task(kept.read(proc.stderr, kept.err)),
        ]
        timed_out = False
        try:
            if proc.stdin is not None:
                with contextlib.suppress(ConnectionError):
                    proc.stdin.write((params.stdin or "").encode())
                    await proc.stdin.drain()
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), params.timeout)
            except TimeoutError:
                timed_out = True
                _kill_group(proc.pid)
                await proc.wait()
            # What it started in the background may hold the pipes open: read what
            # is there, then let go.
            await asyncio.wait(readers, timeout=DRAIN_AFTER_EXIT)
        except asyncio.CancelledError:  # the client hung up: its command ends too
            _kill_group(proc.pid)
            raise
        finally:
            for task in readers:
                task.cancel()
        assert proc.returncode is not None
        result: m.ExecResult = {
            "status": exit_status(proc.returncode),
            "stdout": bytes(kept.out).decode(errors="replace"),
            "stderr": bytes(kept.err).decode(errors="replace"),
        }
        if timed_out:
            result["timed_out"] = True
        if kept.truncated:
            result["truncated"] = True
        return result

    # -- exec.pty -------------------------------------------------------------------------
    async def pty(self, params: PtyParams, session: rpc.Session) -> m.PtyResult:
        """Start a command on a new pty and pass its master to the client over this
        connection (SCM_RIGHTS, on one newline byte before this answer): keystrokes,
        output, resizes and Ctrl-C then never pass through the helper."""
        transport = session.data.get("transport")
        if transport is None:
            raise RpcError(ErrorCode.INVALID_REQUEST, "exec.pty needs a Unix socket connection")
        ns, who = await self._prepare(params.lab, params.node, session)
        argv = list(params.argv or []) or [who.shell]
        master, slave = os.openpty()
        try:
            size = struct.pack("4H", params.rows, params.cols, 0, 0)
            fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
            env = {"TERM": "xterm-256color", **(params.env or {})}
            try:
                # setsid --ctty: a new session whose controlling terminal is the pty
                # (the child is no group leader, so setsid execs in place: same pid).
                proc = await asyncio.create_subprocess_exec(
                    "setsid", "--ctty", *launcher(ns, who, argv, self.net_caps),
                    stdin=slave, stdout=slave, stderr=slave,
                    env=environment(who, params.lab, params.node, env), cwd=working_dir(who),
                )  # fmt: skip
            except OSError as exc:
                raise RpcError(ErrorCode.INTERNAL_ERROR, f"cannot start: {exc}") from None
            finally:
                os.close(slave)
            self._record(params.lab, params.node, ns, proc.pid, who, "shell", argv)
            status: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._ptys[proc.pid] = (session.uid, status)
            self._reapers.add(task := asyncio.create_task(self._reap(proc, status)))
            task.add_done_callback(self._reapers.discard)
            await _send_fd(transport, session.data.get("outbox"), master)
        finally:
            os.close(master)
        return {"pid": proc.pid, "argv": argv}

    async def _reap(self, proc: asyncio.subprocess.Process, status: asyncio.Future[int]) -> None:
        code = await proc.wait()
        status.set_result(exit_status(code))
        await asyncio.sleep(60)  # a client asks soon after its pty closed, or never
        self._ptys.pop(proc.pid, None)

    async def wait(self, params: WaitParams, session: rpc.Session) -> m.WaitResult:
        """The exit status of a pty's command (after the client saw its pty close)."""
        entry = self._ptys.get(params.pid)
        if entry is None or (entry[0] != session.uid and session.uid != 0):
            raise RpcError(ErrorCode.INVALID_PARAMS, f"no terminal of yours has pid {params.pid}")
        return {"status": await asyncio.shield(entry[1])}


class _Output:
    def __init__(self, limit: int) -> None:
        self.limit, self.out, self.err = limit, bytearray(), bytearray()
        self.truncated = False

    async def read(self, stream: asyncio.StreamReader, into: bytearray) -> None:
        while chunk := await stream.read(65536):
            room = self.limit - len(self.out) - len(self.err)
            if len(chunk) > room:
                self.truncated = True
                chunk = chunk[: max(room, 0)]
            into += chunk


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _send_fd(transport: Any, outbox: Any, fd: int) -> None:
    """Send `fd` on the connection between two whole messages: once everything queued
    before is written, so the newline it rides on lands between lines."""
    while (outbox is not None and outbox.messages) or transport.get_write_buffer_size():
        await asyncio.sleep(0.001)
    raw = transport.get_extra_info("socket")
    with socket.socket(fileno=os.dup(raw.fileno())) as sock:
        socket.send_fds(sock, [b"\n"], [fd])
