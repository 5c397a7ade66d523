"""`nstopo helper`: the privileged half. An asyncio server on a Unix socket.

Moves bytes between sockets and the protocol objects (jsonrpc.py); the methods call
the lab service (labs.py) in worker threads so the event loop never blocks on the
kernel. Peers are checked with SO_PEERCRED before anything they send is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import grp
import logging
import os
import socket
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from nstopo import __version__
from nstopo.model.schema import to_document
from nstopo.model.topology import Topology
from nstopo.model.types import STRICT
from nstopo.protocol import messages as m
from nstopo.protocol.errors import ErrorCode
from nstopo.protocol.methods import Method, Notification
from nstopo.protocol.wire import error_response
from pydantic import Field

from . import doctor, flow, nodeshow, probes
from . import jsonrpc as rpc
from .discover import discover
from .identity import identity_of
from .labs import LabService
from .procs import Commands, LogsParams, PtyParams, RunParams, WaitParams
from .proctable import ProcessTable
from .realizer import Realizer
from .registry import Registry, RegistryError
from .services import NodeCommands
from .topofile import read_topology
from .uploads import UploadPartParams, Uploads
from .watch import EventHub, stream_counters

log = logging.getLogger("nstopo.helper")
SERVER_NAME = f"nstopo-helper {__version__}"


Name = Annotated[str, Field(max_length=256)]  # echoed in answers: never megabytes


class HelperStartError(Exception):
    pass


@dataclass(frozen=True)
class TopologyParams:
    __pydantic_config__ = STRICT
    topology: str | dict[str, Any] | None = None  # YAML text, or model.schema.to_document
    dry_run: bool = False
    source: str | None = None  # the file's name, for file:line:col in problems
    upload: str | None = None  # instead of topology: a text sent in upload.part pieces
    upload_format: Literal["yaml", "json"] = "yaml"  # json: a to_document as JSON text


@dataclass(frozen=True)
class LabParams:
    __pydantic_config__ = STRICT
    lab: Name
    force: bool = False


@dataclass(frozen=True)
class SubscribeParams:
    __pydantic_config__ = STRICT
    lab: Name | None = None  # None: every lab


@dataclass(frozen=True)
class CountersParams:
    __pydantic_config__ = STRICT
    lab: Name
    interval: Annotated[float, Field(ge=0.05, le=3600)] = 1.0


@dataclass(frozen=True)
class LabNameParams:
    __pydantic_config__ = STRICT
    lab: Name


@dataclass(frozen=True)
class StatusParams:
    __pydantic_config__ = STRICT
    lab: Name | None = None


class Helper:
    def __init__(
        self,
        socket_path: Path,
        state_dir: Path,
        group: str,
        shared: bool = False,
        net_caps: bool = True,
    ) -> None:
        self.socket_path, self.state_dir, self.group = socket_path, state_dir, group
        self.shared = shared  # every group member may change every lab
        self.group_id: int | None = None
        self.registry = rpc.MethodRegistry()
        self.service: LabService | None = None
        self.hub: EventHub | None = None
        self.uploads = Uploads()
        self.net_caps = net_caps  # commands of non-root callers get the network caps
        self.commands: Commands | None = None
        self.node_commands: NodeCommands | None = None
        self._lock_fd: int | None = None
        self._activated = False  # the socket came from systemd: not ours to remove

    # -- start and stop --------------------------------------------------------------------
    def start(self) -> None:
        """Everything that can fail with a clear message, before serving."""
        if os.geteuid() != 0:
            raise HelperStartError("the helper must run as root (it creates namespaces)")
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _check_state_dir(self.state_dir)
        self._lock_fd = os.open(
            self.state_dir / "helper.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600
        )
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HelperStartError(
                f"another helper already runs with state dir {self.state_dir}"
            ) from None
        try:
            self.group_id = grp.getgrnam(self.group).gr_gid
        except KeyError:
            log.warning("group %r does not exist: only root may use the helper", self.group)
        try:
            registry = Registry.load(self.state_dir)
        except RegistryError as exc:
            raise HelperStartError(str(exc)) from None
        self.service = LabService(Realizer(), registry, shared=self.shared)
        self.service.reconcile()
        table = ProcessTable(self.state_dir, self.service.realizer.run_dir)
        self.commands = Commands(self.service, table, self.net_caps)
        self.node_commands = NodeCommands(self.commands, self.state_dir)
        self.service.before_destroy.append(self.node_commands.stop_lab)  # no restarts, then
        self.service.before_destroy.append(lambda record: table.end(record.name))
        self._register_methods()

    async def serve(self, ready: asyncio.Event | None = None) -> None:
        assert self.service is not None
        loop = asyncio.get_running_loop()
        self.hub = EventHub(self.service.realizer, self.service.registry, loop)
        inherited = _activation_socket()
        if inherited is not None:  # systemd socket activation: mode and group are the unit's
            self._activated = True
            server = await asyncio.start_unix_server(
                self._connection, sock=inherited, limit=rpc.MAX_MESSAGE_BYTES
            )
        else:
            self.socket_path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            if self.socket_path.exists():
                self.socket_path.unlink()  # stale: the lock proves no other helper owns it
            server = await asyncio.start_unix_server(
                self._connection, path=str(self.socket_path), limit=rpc.MAX_MESSAGE_BYTES
            )
            os.chmod(self.socket_path, 0o660)
            if self.group_id is not None:
                os.chown(self.socket_path, 0, self.group_id)
        log.info("listening on %s", self.socket_path)
        if self.node_commands is not None:
            await self.node_commands.resume(dict(self.service.registry.labs))
        if ready is not None:
            ready.set()
        async with server:
            await server.serve_forever()

    def close(self) -> None:
        if self.service is not None:
            self.service.realizer.close()
        if not self._activated:
            self.socket_path.unlink(missing_ok=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)

    # -- one connection ---------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        pid, uid, gid = struct.unpack(
            "3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        )
        if not self._authorized(pid, uid, gid):
            error = rpc.RpcError(
                ErrorCode.NOT_AUTHORIZED,
                f"user {uid} is not root and not in group "
                f"{self.group!r}; ask an administrator to add you to it",
            )
            writer.write(error_response(None, error))
            await _close(writer)
            return
        wake, drained = asyncio.Event(), asyncio.Event()
        loop = asyncio.get_running_loop()

        def woken() -> None:
            wake.set()
            if outbox.overflowing:  # even while the writer waits in drain()
                _cut_off(writer, outbox)

        outbox = flow.ByteOutbox(on_put=lambda: loop.call_soon_threadsafe(woken))
        session = rpc.Session(uid=uid, gid=gid, pid=pid)
        session.data.update(transport=writer.transport, outbox=outbox)  # exec.pty's fd
        endpoint = rpc.Endpoint(self.registry, session, outbox)
        writer_task = asyncio.create_task(self._write(writer, outbox, wake, drained))
        requests: dict[asyncio.Task[None], int] = {}  # request -> its size in bytes
        framer = rpc.LineFramer()

        def finished(task: asyncio.Task[None]) -> None:
            requests.pop(task, None)
            drained.set()

        try:
            while not outbox.overflowing and not writer_task.done():
                # Backpressure: a client that sends requests without reading the answers
                # waits in its own socket buffer, not in the helper's memory. It is
                # watched while it waits: if it hangs up, its session ends.
                while requests and (
                    outbox.bytes >= flow.OUTBOX_BYTES
                    or sum(requests.values()) >= flow.INBOX_BYTES
                    or len(requests) >= outbox.limit
                ):
                    drained.clear()
                    waiter = asyncio.create_task(drained.wait())
                    try:
                        while not waiter.done():
                            await asyncio.wait({waiter, writer_task}, timeout=1.0,
                                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                            if writer_task.done() or flow.peer_gone(sock):
                                return
                    finally:
                        waiter.cancel()
                data = await reader.read(65536)
                if not data:
                    break
                for frame in framer.feed(data):
                    task = asyncio.create_task(endpoint.receive(frame))
                    requests[task] = len(frame) if isinstance(frame, bytes) else 0
                    task.add_done_callback(finished)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for task in list(requests):
                task.cancel()
            self._end_streams(session)
            writer_task.cancel()
            await _close(writer)
            flow.give_back_memory()

    async def _write(
        self,
        writer: asyncio.StreamWriter,
        outbox: flow.ByteOutbox,
        wake: asyncio.Event,
        drained: asyncio.Event,
    ) -> None:
        try:
            while True:
                await wake.wait()
                wake.clear()
                while outbox.messages:
                    if outbox.overflowing:
                        _cut_off(writer, outbox)
                        return
                    writer.write(outbox.pop())
                    if writer.transport.get_write_buffer_size() > flow.WRITE_CHUNK:
                        await writer.drain()
                await writer.drain()
                drained.set()
        except (ConnectionError, OSError):
            return
        finally:
            drained.set()  # the reader must never wait for a writer that is gone

    def _authorized(self, pid: int, uid: int, gid: int) -> bool:
        if uid == 0:
            return True
        if self.group_id is None:
            return False
        return self.group_id == gid or self.group_id in _process_groups(pid)

    # -- methods ------------------------------------------------------------------------------
    def _register_methods(self) -> None:
        rpc.add_hello(self.registry, SERVER_NAME)
        add = self.registry.add
        add(Method.LAB_PLAN, self._plan, TopologyParams)
        add(Method.LAB_APPLY, self._apply, TopologyParams)
        add(Method.UPLOAD_PART, self._upload_part, UploadPartParams)
        add(Method.LAB_DESTROY, self._destroy, LabParams)
        add(Method.LAB_STATUS, self._status, StatusParams)
        add(Method.HELPER_INFO, self._info)
        add(Method.HOST_DISCOVER, self._discover)
        add(
            Method.PING_START,
            lambda p, sess: probes.run_ping(self._service(), p, sess),
            probes.PingParams,
        )
        add(
            Method.CAPTURE_START,
            lambda p, sess: probes.start_capture(self._service(), p, sess),
            probes.CaptureParams,
        )
        add(Method.CAPTURE_STOP, probes.stop_capture, probes.CaptureStopParams)
        add(Method.PING_STOP, probes.stop_ping, probes.PingStopParams)
        add(
            Method.BRIDGE_FDB,
            lambda p, sess: probes.bridge_fdb(self._service(), p, sess),
            probes.FdbParams,
        )
        add(Method.LAB_TOPOLOGY, self._topology, LabNameParams)
        add(Method.EVENTS_SUBSCRIBE, self._subscribe, SubscribeParams)
        add(Method.EVENTS_UNSUBSCRIBE, self._unsubscribe)
        add(Method.COUNTERS_SUBSCRIBE, self._counters, CountersParams)
        add(Method.COUNTERS_UNSUBSCRIBE, self._counters_stop)
        add(Method.EXEC_RUN, lambda p, sess: self._commands().run(p, sess), RunParams)
        add(Method.EXEC_PTY, lambda p, sess: self._commands().pty(p, sess), PtyParams)
        add(Method.EXEC_WAIT, lambda p, sess: self._commands().wait(p, sess), WaitParams)
        add(Method.EXEC_LOGS, self._logs, LogsParams)
        add(
            Method.NODE_SHOW,
            lambda p, sess: nodeshow.node_show(self._service(), p, sess),
            nodeshow.NodeShowParams,
        )
        add(Method.HOST_DOCTOR, lambda p, sess: doctor.host_doctor(self._service(), p, sess))

    async def _upload_part(
        self, params: UploadPartParams, session: rpc.Session
    ) -> m.UploadPartResult:
        return {"upload": params.upload, "chars": self.uploads.add(params, session)}

    async def _read_topology(
        self, params: TopologyParams, session: rpc.Session
    ) -> tuple[Topology, list[str]]:
        if (params.topology is None) == (params.upload is None):
            raise rpc.RpcError(
                ErrorCode.INVALID_PARAMS, "give either topology or upload (and not both)"
            )
        if params.upload is None:
            data = params.topology
        else:
            data = self.uploads.topology(params.upload, params.upload_format, session)
        return await self._call(read_topology, data, params.source)

    async def _call(self, fn: Any, *args: Any) -> Any:
        """Blocking lab work in a worker thread; its LabError is the protocol's error."""
        return await asyncio.to_thread(fn, *args)

    async def _plan(self, params: TopologyParams, session: rpc.Session) -> m.PlanResult:
        assert self.service is not None
        topology, warnings = await self._read_topology(params, session)
        plan = await self._call(self.service.plan, topology)
        running = topology.name in self.service.registry.labs
        steps = [step.to_dict() for step in plan]
        return {"lab": topology.name, "running": running, "steps": steps, "warnings": warnings}

    async def _apply(self, params: TopologyParams, session: rpc.Session) -> m.ApplyResult:
        assert self.service is not None
        topology, warnings = await self._read_topology(params, session)
        loop = asyncio.get_running_loop()
        previous = self.service.registry.labs.get(topology.name)
        before = previous.topology if previous is not None else None
        if before is not None and not params.dry_run and self.node_commands is not None:
            assert previous is not None
            self.service._check_may_change(previous, session.uid)  # before ending anything
            await self.node_commands.before_apply(topology.name, before, to_document(topology))

        def progress(event: m.ApplyProgress) -> None:
            loop.call_soon_threadsafe(session.notify, Notification.APPLY_PROGRESS, event)

        try:
            result = await self._call(
                self.service.apply, topology, session.uid, params.dry_run, progress
            )
        finally:
            await self._refresh_watchers()
        if result.changed and not params.dry_run:
            self._lab_changed(result.lab, "applied")
        answer: m.ApplyResult = {
            "lab": result.lab,
            "changed": result.changed,
            "dry_run": params.dry_run,
            "steps": result.steps,
            "elapsed_ms": round(result.elapsed_ms, 2),
            "warnings": warnings,
        }
        if not params.dry_run and result.lab in self.service.registry.labs:
            assert self.node_commands is not None
            after = await self._call(self.service.remember_document, topology)
            who = identity_of(session.uid, session.gid, session.pid)
            answer["exec"] = await self.node_commands.after_apply(result.lab, before, after, who)
        return answer

    async def _destroy(self, params: LabParams, session: rpc.Session) -> m.DestroyResult:
        assert self.service is not None
        try:
            report = await self._call(self.service.destroy, params.lab, params.force, session.uid)
        finally:
            await self._refresh_watchers()
        self._lab_changed(params.lab, "destroyed")
        return report

    def _lab_changed(self, lab: str, change: Literal["applied", "destroyed"]) -> None:
        """Tell every event listener that a lab was applied or destroyed, by whichever
        client: an editor showing it reads it back."""
        if self.hub is not None:
            changed: m.LabChanged = {"lab": lab, "change": change}
            self.hub.emit(lab, Notification.LAB_CHANGED, dict(changed))

    async def _discover(self, params: None, session: rpc.Session) -> m.DiscoverResult:
        assert self.service is not None
        found = await asyncio.to_thread(discover, self.service.realizer.worker)
        return found.to_json()

    # -- streams ------------------------------------------------------------------------------
    async def _refresh_watchers(self) -> None:
        if self.hub is not None and (self.hub.listeners or self.hub.watchers):
            await self.hub.refresh()

    async def _subscribe(self, params: SubscribeParams, session: rpc.Session) -> m.SubscribeResult:
        """Also a lab that does not run yet: its events start when it is applied (the
        hub watches the namespaces of every listened-to lab after each apply)."""
        assert self.hub is not None and self.service is not None
        await self.hub.subscribe(
            id(session), session.notify, params.lab, flow.notify_whole(session)
        )
        running = params.lab is None or params.lab in self.service.registry.labs
        return {"lab": params.lab, "watching": len(self.hub.watchers), "running": running}

    async def _unsubscribe(self, params: None, session: rpc.Session) -> m.Empty:
        assert self.hub is not None
        await self.hub.unsubscribe(id(session))
        return {}

    async def _counters(self, params: CountersParams, session: rpc.Session) -> m.CountersResult:
        assert self.service is not None
        if params.lab not in self.service.registry.labs:
            raise rpc.RpcError(ErrorCode.NO_SUCH_LAB, f'there is no lab "{params.lab}"')
        task = asyncio.create_task(
            stream_counters(
                self.service.realizer,
                self.service.registry,
                params.lab,
                params.interval,
                session.notify,
            )
        )
        session.data.setdefault("counters", []).append(task)
        return {"lab": params.lab, "interval": params.interval}

    async def _counters_stop(self, params: None, session: rpc.Session) -> m.Empty:
        for task in session.data.pop("counters", []):
            task.cancel()
        return {}

    async def _logs(self, params: LogsParams, session: rpc.Session) -> m.LogsResult:
        assert self.node_commands is not None
        await asyncio.to_thread(self._commands().namespace_of, params.lab, params.node,
                                session.uid)  # fmt: skip
        return await asyncio.to_thread(
            self.node_commands.read_log, params.lab, params.node, params.offset
        )

    def _commands(self) -> Commands:
        assert self.commands is not None
        return self.commands

    def _service(self) -> LabService:
        assert self.service is not None
        return self.service

    def _end_streams(self, session: rpc.Session) -> None:
        probes.stop_all(session)
        self.uploads.drop(session)
        if self.hub is not None:
            self.hub.drop(id(session))
        for task in session.data.pop("counters", []):
            task.cancel()

    async def _topology(self, params: LabNameParams, session: rpc.Session) -> m.TopologyResult:
        """The topology a running lab was last applied with (a client re-syncs from it)."""
        assert self.service is not None
        record = self.service.registry.labs.get(params.lab)
        if record is None or record.topology is None:
            raise rpc.RpcError(ErrorCode.NO_SUCH_LAB, f'there is no running lab "{params.lab}"')
        return {"lab": params.lab, "topology": record.topology}

    async def _status(self, params: StatusParams, session: rpc.Session) -> list[m.LabStatus]:
        assert self.service is not None
        found = await self._call(self.service.status, params.lab)
        if self.commands is not None:
            for lab in found:
                lab["processes"] = await self._call(self.commands.table.listing, lab["lab"])
        return found

    async def _info(self, params: None, session: rpc.Session) -> m.InfoResult:
        assert self.service is not None
        return {
            "server": SERVER_NAME,
            "pid": os.getpid(),
            "rss_kib": _rss_kib(),
            "labs": sorted(self.service.registry.labs),
        }


def _cut_off(writer: asyncio.StreamWriter, outbox: flow.ByteOutbox) -> None:
    """Disconnect a client that stopped reading, saying so once in the log (whether its
    writer was popping the outbox or stuck in drain(), where most such cuts happen)."""
    if writer.transport.is_closing():
        return
    log.warning(
        "client stopped reading (%d notifications dropped, %d bytes queued): closing",
        outbox.dropped,
        outbox.bytes,
    )
    writer.transport.abort()


def _check_state_dir(path: Path) -> None:
    """The registry decides what root deletes: its folder must be root's alone."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise HelperStartError(f"the state dir {path} is not a directory (a symlink?)")
    if st.st_uid != 0:
        raise HelperStartError(
            f"the state dir {path} belongs to uid {st.st_uid}, not root; run: chown root {path}"
        )
    if st.st_mode & 0o022:
        raise HelperStartError(
            f"the state dir {path} is writable by others (mode "
            f"{stat.S_IMODE(st.st_mode):o}); run: chmod go-w {path}"
        )


def _activation_socket() -> socket.socket | None:
    """The listening socket systemd passed us (sd_listen_fds protocol), if any."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or os.environ.get("LISTEN_FDS") != "1":
        return None
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)  # not for our children
    return socket.socket(fileno=3)


def _process_groups(pid: int) -> set[int]:
    """The live process's supplementary groups (what its credentials really are)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Groups:"):
                return {int(g) for g in line.split()[1:]}
    except OSError:
        pass
    return set()


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()


def run_helper(
    socket_path: str, state_dir: str, group: str, shared: bool = False, net_caps: bool = True
) -> None:
    """Foreground: serve until SIGINT/SIGTERM."""
    import signal

    logging.basicConfig(level=logging.INFO, format="nstopo helper: %(message)s")
    helper = Helper(Path(socket_path), Path(state_dir), group, shared, net_caps)
    helper.start()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        serving = asyncio.create_task(helper.serve())
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, serving.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await serving

    try:
        asyncio.run(main())
    finally:
        helper.close()
