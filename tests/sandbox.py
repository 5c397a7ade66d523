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

# A killed test run must not leave sandboxes or helpers behind (setpriv: util-linux).
_DIE_WITH_PARENT = ["setpriv", "--pdeathsig", "KILL", "--"]
# A new network stack (standing in for the host) and a private mount namespace.
_UNSHARE = ["unshare", "--net", "--mount", "--propagation", "private", "--"]
_PRELUDE = "mount -t tmpfs nstopo-sandbox /run && mkdir -p /run/netns && ip link set lo up"


def run_sandboxed(script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a bash script inside a new sandbox; raise with its output if it fails."""
    command = [
        *_UNSHARE,
        "bash",
        "-euo",
        "pipefail",
        "-c",
        f"{_PRELUDE}\n{script}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(
            f"sandboxed script failed ({done.returncode}):\n{script}\n--- stdout\n"
            f"{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


def quote(*words: str) -> str:
    return shlex.join(words)


class Sandbox:
    """A long-lived sandbox: a holder process keeps the network stack and the private
    /run alive while helpers are started, killed and restarted inside it (nsenter).
    `close()` ends the holder: everything built inside vanishes with it.

    Its root namespace stands in for the host and has an `eth0` (a veth), so tests can
    show that nstopo never touches the host's uplink.
    """

    def __init__(self) -> None:
        uplink = "ip link add eth0 type veth peer name eth0-peer && ip link set eth0 up"
        script = f"{_PRELUDE} && {uplink} && echo ready && exec sleep infinity"
        self.holder = subprocess.Popen(
            [
                *_DIE_WITH_PARENT,
                *_UNSHARE,
                "bash",
                "-c",
                script,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.holder.stdout is not None
        if self.holder.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError("the sandbox did not start")

    def command(self, *argv: str) -> list[str]:
        return ["nsenter", "-t", str(self.holder.pid), "--net", "--mount", "--", *argv]

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*argv), capture_output=True, text=True, check=check, timeout=60
        )

    def popen(self, *argv: str, **kwargs) -> subprocess.Popen:
        """A long-running process inside; it dies with the test run if that is killed."""
        return subprocess.Popen([*_DIE_WITH_PARENT, *self.command(*argv)], **kwargs)

    def close(self) -> None:
        self.holder.kill()
        self.holder.wait()
