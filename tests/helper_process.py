"""The helper as a process inside a sandbox, reached over a temporary socket
(used by the integration tests and the benchmarks)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from nstopo.backend.client import HelperClient, HelperUnavailable
from sandbox import Sandbox

NSTOPO = str(Path(sys.executable).parent / "nstopo")
FACTS = str(Path(__file__).parent / "kernel_facts.py")


class RunningHelper:
    def __init__(self, sandbox: Sandbox, base: Path, group: str = "nstopo-test-nogroup") -> None:
        self.sandbox, self.base, self.group = sandbox, base, group
        self.socket = base / "helper.sock"
        self.state = base / "state"
        self.log = base / "helper.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.proc = self.sandbox.popen(NSTOPO, "helper", "--socket", str(self.socket),
                                           "--state-dir", str(self.state), "--group",
                                           self.group, stdout=log,
                                           stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                HelperClient(str(self.socket), timeout=5).close()
                return
            except HelperUnavailable:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"helper exited: {self.log.read_text()}") from None
                time.sleep(0.05)
        raise RuntimeError("helper did not start in 15 s")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid  # nsenter execs the helper: same pid

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def client(self) -> HelperClient:
        return HelperClient(str(self.socket), timeout=120)

    def facts(self, *sysctl_keys: str) -> dict:
        done = self.sandbox.run(sys.executable, FACTS, *sysctl_keys)
        return json.loads(done.stdout)

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


class Listener:
    """A subscribed client whose notifications are collected by a thread."""

    def __init__(self, helper: RunningHelper, method: str, params: dict[str, Any]) -> None:
        self.client = helper.client()
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self.result = self.client.call(method, params, self._keep)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _keep(self, method: str, params: Any) -> None:
        self.events.append((time.monotonic(), method, params))

    def _run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.client.listen(self._keep)

    def wait_for(self, test: Callable[[str, dict[str, Any]], bool], timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, method, params in list(self.events):
                if test(method, params):
                    return at, params
            time.sleep(0.01)
        raise AssertionError(f"no such event in {timeout} s; got {self.events[-5:]}")

    def close(self) -> None:
        self.client.close()
        self.thread.join(5)
        assert not self.thread.is_alive(), "the listening thread did not end"


@contextlib.contextmanager
def helper_in(box: Sandbox, prefix: str = "nstopo-") -> Iterator[RunningHelper]:
    """A running helper inside `box`, its socket and state in a new temporary folder
    (readable by all: the unprivileged-peer test connects as nobody); afterwards the
    helper is stopped and the folder removed."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(base, 0o755)
    helper = RunningHelper(box, base)
    try:
        helper.start()
        yield helper
    finally:
        helper.stop()
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def helper_in_sandbox(prefix: str = "nstopo-") -> Iterator[RunningHelper]:
    """A running helper in a new sandbox (benchmarks, screenshot scripts); afterwards
    the sandbox, with all it held, is gone too."""
    box = Sandbox()
    try:
        with helper_in(box, prefix) as helper:
            yield helper
    finally:
        box.close()
