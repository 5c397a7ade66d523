"""Run commands in a throw-away network stack: a fresh network namespace that stands
in for the host, plus a private mount namespace with its own /run/netns.

Everything a test builds inside (named namespaces, veths, bridges, host-side
addresses) lives only as long as the sandbox's processes: nothing can reach the
real host's interfaces, routes or /run/netns, and nothing is left behind even if
the test is killed.
"""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (real kernel objects)")

_PRELUDE = "mount -t tmpfs nstopo-sandbox /run && mkdir -p /run/netns && ip link set lo up"


def run_sandboxed(script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a bash script inside a new sandbox; raise with its output if it fails."""
    command = ["unshare", "--net", "--mount", "--propagation", "private", "--",
               "bash", "-euo", "pipefail", "-c", f"{_PRELUDE}\n{script}"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(
            f"sandboxed script failed ({done.returncode}):\n{script}\n--- stdout\n"
            f"{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


def quote(*words: str) -> str:
    return shlex.join(words)
