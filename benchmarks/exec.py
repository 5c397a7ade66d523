"""Commands in nodes (issue 15): how fast a terminal answers and a command runs.

Figures:
- keystroke -> echo in a node (`exec.pty` running `stty raw -echo; cat`: the master was handed to
  us, so this is the kernel's pty and cat only), p50 and p99 of KEYS keystrokes
  (target: p99 <= 5 ms);
- for the design not taken (keys and output streamed as JSON through the helper): a
  request and its answer on an open connection, p50 and p99, the least each key would
  add on top of the pty;
- `exec.run ["true"]` on an open connection (the helper's part: launcher, process
  table, answer), median;
- `nstopo exec LAB NODE -- true` as a user types it, a new process each time, median
  and p90 wall time (target <= 100 ms), with `python -c pass` for scale.

The helper runs in a throw-away sandbox (tests/sandbox.py). Needs root.

    sudo .venv/bin/python benchmarks/exec.py [KEYS] [ROUNDS]     (default: 500, 20)
"""

from __future__ import annotations

import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from helper_process import NSTOPO, helper_in_sandbox
from nstopo.backend.ptyclient import open_pty

LAB = """nstopo: 1
name: bench-exec
nodes:
  a: {kind: netns}
"""
ECHO_TARGET_MS, EXEC_TARGET_MS = 5.0, 100.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def keystrokes(fd: int, count: int) -> list[float]:
    os.write(fd, b"stty raw -echo; cat\n")  # cat echoes each byte back at once
    time.sleep(0.5)
    while select.select([fd], [], [], 0.2)[0]:
        os.read(fd, 65536)
    times = []
    for i in range(count):
        key = bytes([97 + i % 26])
        started = time.perf_counter()
        os.write(fd, key)
        got = b""
        while key not in got:
            select.select([fd], [], [], 5)
            got += os.read(fd, 64)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    keys = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with helper_in_sandbox("nstopo-bench-exec-") as helper:
        # As installed: pip writes the bytecode. With PYTHONDONTWRITEBYTECODE set (as in
        # some shells here) every run would compile nstopo's modules first (15-30 ms), so
        # the bytecode goes to a cache of this run, written by a first untimed run.
        pycache = tempfile.mkdtemp(prefix="nstopo-bench-pyc-")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(NSTOPO_SOCKET=str(helper.socket), PYTHONPYCACHEPREFIX=pycache)
        with helper.client() as client:
            client.call("lab.apply", {"topology": LAB})
            fd, _ = open_pty(client, {"lab": "bench-exec", "node": "a", "argv": ["sh"]})
            echo = keystrokes(fd, keys)
            os.close(fd)
            # The other design: keystrokes and output streamed as JSON through the
            # helper would cost at least one request and answer per key.
            streamed = []
            for _ in range(keys):
                started = time.perf_counter()
                client.call("helper.info")
                streamed.append((time.perf_counter() - started) * 1000)
            calls = []
            for _ in range(rounds):
                started = time.perf_counter()
                client.call("exec.run", {"lab": "bench-exec", "node": "a", "argv": ["true"]})
                calls.append((time.perf_counter() - started) * 1000)
        walls, pythons = [], []
        subprocess.run([NSTOPO, "exec", "bench-exec", "a", "--", "true"], env=env, check=True)
        for _ in range(rounds):
            started = time.perf_counter()
            subprocess.run([NSTOPO, "exec", "bench-exec", "a", "--", "true"], env=env, check=True)
            walls.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
            pythons.append((time.perf_counter() - started) * 1000)
        with helper.client() as client:
            client.call("lab.destroy", {"lab": "bench-exec"})
        shutil.rmtree(pycache)
    p99 = pct(echo, 0.99)
    print(
        f"keystroke -> echo ({keys} keys): p50 {pct(echo, 0.5):.3f} ms, p99 {p99:.3f} ms "
        f"(target p99 <= {ECHO_TARGET_MS} ms: {'met' if p99 <= ECHO_TARGET_MS else 'MISSED'})"
    )
    print(
        f"a JSON request and answer through the helper (the least a streamed keystroke "
        f"would cost): p50 {pct(streamed, 0.5):.3f} ms, p99 {pct(streamed, 0.99):.3f} ms"
    )
    print(f"exec.run true on an open connection: median {statistics.median(calls):.1f} ms")
    wall = statistics.median(walls)
    print(f"nstopo exec LAB NODE -- true: median {wall:.1f} ms, p90 {pct(walls, 0.9):.1f} ms "
          f"(target <= {EXEC_TARGET_MS} ms: {'met' if wall <= EXEC_TARGET_MS else 'MISSED'}); "
          f"python -c pass: median {statistics.median(pythons):.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
