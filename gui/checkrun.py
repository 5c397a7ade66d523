"""Running checks and scenarios from the editor (the Checks panel, the lesson dock).

The runner is backend/checkrunner.py, the one `nstopo test` uses, so a check means the
same in the editor as on the command line. It is synchronous (a check retries with
pauses, a ping call lasts as long as the ping), so it runs in a worker thread on its own
HelperClient connection rather than asynchronously over the editor's: the retries and
verdicts are not written a second time, a check that waits seconds for the kernel never
delays the editor's own calls (a deploy, the plan, the event stream) behind it on one
socket, and the packets a capture check listens to stay on that connection instead of
reaching the editor's panels. Results come back as Qt signals, queued to the UI thread.

    run = CheckRun(socket_path)
    run.finished.connect(lambda key, outcome: ...)
    run.start([Job("a reaches b", check)], topology)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nstopo.backend.checkrunner import CheckRunner, Outcome
from nstopo.backend.client import HelperClient
from nstopo.model.checks import Check, Scenario
from nstopo.model.schema import to_document
from nstopo.model.topology import Topology
from nstopo.protocol.errors import RpcError
from nstopo.protocol.methods import Method
from PySide6.QtCore import QObject, Signal

CALL_TIMEOUT = 120.0  # seconds one helper call may take before the run gives up


@dataclass(frozen=True)
class Job:
    """One thing to run: a check, or a scenario (its steps in order). `key` is how the
    caller names it in the signals."""

    key: str
    check: Check | None = None
    scenario: Scenario | None = None
    named: dict[str, Check] = field(default_factory=dict)  # a scenario's named checks


class CheckRun(QObject):
    started = Signal(str)  # key: its run begins
    step = Signal(str, object)  # key, an Outcome of a scenario's check, or an action's line
    finished = Signal(str, object)  # key, its Outcome (a scenario: the first failure, or all)
    ended = Signal(str)  # the run is over: "" when it ran, else why not (no helper, stopped)

    def __init__(self, socket_path: str) -> None:
        # No Qt parent: a panel deleted with its document must not delete the sender of
        # signals a worker still emits (the thread holds the object until it ends).
        super().__init__()
        self.socket_path = socket_path
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._client: HelperClient | None = None
        self._lock = threading.Lock()
        self._running = False  # from start() until `ended` reaches the UI thread
        self.ended.connect(self._done)  # first of ended's slots: panels then see busy False

    @property
    def busy(self) -> bool:
        return self._running

    def _done(self, _why: str) -> None:
        self._running = False

    def start(self, jobs: Iterable[Job], topology: Topology, base_dir: Path | None = None) -> bool:
        """Run `jobs` against the lab `topology` names, as it runs (a copy is taken);
        False when a run is still going on."""
        if self.busy:
            return False
        self._stop.clear()
        self._running = True
        self._thread = threading.Thread(
            target=self._work,
            args=(list(jobs), topology.copy(), base_dir or Path.cwd()),
            name="nstopo-checks",
            daemon=True,
        )
        self._thread.start()
        return True

    def stop(self) -> None:
        """End the run: a check that waits stops waiting, a call under way is cut."""
        self._stop.set()
        with self._lock:
            if self._client is not None:
                self._client.close()

    def wait(self, seconds: float = 30.0) -> None:
        """Until the worker is done (closing the editor, tests)."""
        if self._thread is not None:
            self._thread.join(seconds)

    # -- the worker thread -------------------------------------------------------------------
    def _work(self, jobs: list[Job], topology: Topology, base_dir: Path) -> None:
        try:
            client = HelperClient(self.socket_path, CALL_TIMEOUT, client="nstopo-editor-checks")
        except (RpcError, OSError) as exc:
            self.ended.emit(_why(exc))
            return
        with self._lock:
            self._client = client
        why = ""
        runner = CheckRunner(client, topology.copy(), base_dir, sleep=self._stop.wait)
        try:
            for job in jobs:
                if self._stop.is_set():
                    break
                self.started.emit(job.key)
                self.finished.emit(job.key, self._run(runner, job))
                if runner.topology != topology:  # a scenario changed the lab: put it back
                    client.call(Method.LAB_APPLY, {"topology": to_document(topology)})
                    runner.topology = topology.copy()
        except (RpcError, OSError) as exc:
            why = _why(exc)
        finally:
            with self._lock:
                self._client = None
            client.close()
        # Stopped or cut inside a scenario: the lab goes back as drawn.
        put_back = self._put_back(topology) if runner.topology != topology else ""
        self.ended.emit(put_back or ("stopped" if self._stop.is_set() else why))

    def _put_back(self, topology: Topology) -> str:
        """Apply the drawn lab again on a connection of its own (stop() closed the run's);
        "" when it went back, else why not."""
        try:
            with HelperClient(self.socket_path, CALL_TIMEOUT, client="nstopo-editor-checks") as c:
                c.call(Method.LAB_APPLY, {"topology": to_document(topology)})
        except (RpcError, OSError) as exc:
            return f"the lab could not be put back as drawn after the scenario: {_why(exc)}"
        return ""

    def _run(self, runner: CheckRunner, job: Job) -> Outcome:
        if job.check is not None:
            return runner.run_check(job.check)
        assert job.scenario is not None
        outcomes: list[Outcome] = []
        for item in runner.run_scenario(job.scenario, job.named):
            if self._stop.is_set():
                break
            self.step.emit(job.key, item)
            if isinstance(item, Outcome):
                outcomes.append(item)
        failed = [o for o in outcomes if not o.passed]
        seconds = sum(o.seconds for o in outcomes)
        if failed:
            first = failed[0]
            return Outcome(job.scenario.name, False, f"{first.name}: {first.evidence}", seconds)
        said = f"{len(outcomes)} check(s) passed"
        return Outcome(job.scenario.name, not self._stop.is_set(), said, seconds)


def _why(exc: BaseException) -> str:
    if isinstance(exc, RpcError):
        return exc.message
    return f"the connection to the helper failed ({exc})"


def describe(check: Check) -> str:
    """What a check asks and expects, in one line (the panels' text)."""
    probe = check.probe
    expect = check.expect
    wanted = expect if isinstance(expect, str) else ""
    if check.ping is not None:
        out = f" out of {probe.interface}" if probe.interface else ""
        said = f"ping from {probe.source} to {probe.to}{out}"
        wanted = wanted or "reply"
    elif check.capture is not None:
        said = f"capture on {probe.node} while {describe_ping(probe.during.ping)}"
    elif check.exec is not None:
        command = probe.command if isinstance(probe.command, str) else " ".join(probe.command)
        said = f"in {probe.node}: {command}"
    elif check.kernel is not None:
        where = f"{probe.node}:{probe.interface}" if probe.interface else probe.node
        if probe.oper is not None:
            said = f"{where} is {probe.oper}"
        elif probe.address is not None:
            said = f"{where} has {probe.address}"
        else:
            via = f" via {probe.via}" if probe.via else ""
            said = f"{where} has a route to {probe.route}{via}"
        wanted = wanted or "present"
    else:
        return "asks nothing"
    if expect is not None and not isinstance(expect, str):
        keys = [f"{name} {_shown(value)}" for name, value in vars(expect).items()]
        keys = [k for k, v in zip(keys, vars(expect).values(), strict=True) if v not in (None, ())]
        wanted = ", ".join(keys)
    return f"{said}; expect {wanted}" if wanted else said


def describe_ping(probe: object) -> str:
    out = f" out of {probe.interface}" if getattr(probe, "interface", None) else ""
    return f"a ping from {probe.source} to {probe.to}{out}"  # type: ignore[attr-defined]


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return " and ".join(f'"{v}"' for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return f'"{value}"' if isinstance(value, str) else str(value)
