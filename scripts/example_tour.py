"""Run a bundled example for real and show what happens (scripts/run-example, root,
no display). It expects to run inside a private network stack (run-example starts it
in `unshare --net --mount` with its own /run): there it starts a helper on a
temporary socket, applies the example with `nstopo apply`, runs the experiment the
file's comments describe (captures in the background while the pings run), then, if
the comments name a fix, plans and applies the fix and runs its experiment too, and
finally destroys the lab and shows that nothing is left.

Every command is printed as a reader would type it, followed by its real output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nstopo.model.examples import Example, read_example
from nstopo.resources import EXAMPLES

NSTOPO = str(Path(sys.executable).parent / "nstopo")
BOLD, DIM, OFF = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("",) * 3


def say(text: str = "") -> None:
    print(text, flush=True)


def shown(words: tuple[str, ...]) -> str:
    return "# nstopo " + " ".join(words)


class Tour:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, *words: str) -> int:
        say(f"{BOLD}{shown(words)}{OFF}")
        done = subprocess.run(
            [NSTOPO, *words], env=self.env, capture_output=True, text=True, timeout=120
        )
        out = (done.stdout + done.stderr).rstrip()
        if out:
            say(out)
        return done.returncode

    def experiment(self, example: Example, skip: set[tuple[str, ...]]) -> None:
        """Captures first (each in the background, ready before the first ping), then
        everything else in order, then each capture's packets."""
        commands = [self._local(c) for c in example.commands if c not in skip]
        captures = [c for c in commands if c[0] == "capture"]
        running = []
        for words in captures:
            say(f"{BOLD}{shown(words)} &{OFF}")
            proc = subprocess.Popen(
                [NSTOPO, *words], env=self.env, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )  # fmt: skip
            assert proc.stderr is not None
            say(DIM + proc.stderr.readline().rstrip() + OFF)  # "listening on ...": it is ready
            running.append((words, proc))
        for words in commands:
            if words[0] == "capture":
                continue
            if words[0] == "ping" and "-c" not in words:
                words = (*words, "-c", "2", "-W", "1")
            code = self.run(*words)
            if words[0] == "ping":
                say(f"{DIM}(exit {code}: {'replies came' if code == 0 else 'no reply'}){OFF}")
            say()
        time.sleep(0.5)  # the last replies reach the captures
        for words, proc in running:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
            where = words[2]
            say(f"{BOLD}-- what `nstopo capture {' '.join(words[1:])}` saw on {where}:{OFF}")
            say(out.rstrip() or "(nothing)")
            say(DIM + err.strip().splitlines()[-1] + OFF if err.strip() else "")
        if running:
            say()

    def _local(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """File names in the comments are the examples' own: give their full path."""
        return tuple(shorter(EXAMPLES / w) if w.endswith(".yaml") else w for w in words)


def shorter(path: Path) -> str:
    """A path as a reader in the repository would type it."""
    return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)


def lab_name(path: Path) -> str:
    from nstopo.model.yamlfile import load

    return load(path).topology.name


def main(name: str) -> int:
    example = read_example(EXAMPLES / f"{name}.yaml")
    base = Path(tempfile.mkdtemp(prefix="nstopo-example-"))
    socket = base / "helper.sock"
    env = {**os.environ, "NSTOPO_SOCKET": str(socket)}
    with open(base / "helper.log", "w") as log:
        helper = subprocess.Popen(
            [NSTOPO, "helper", "--socket", str(socket), "--state-dir", str(base / "state"),
             "--group", "root"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not socket.exists():
            if helper.poll() is not None or time.monotonic() > deadline:
                say((base / "helper.log").read_text())
                return 1
            time.sleep(0.05)
        tour = Tour(env)
        lab = lab_name(example.path)
        say(f"== {example.name}: {example.title}")
        say(DIM + example.explanation + OFF)
        say()
        say("== a helper runs in this private network stack; the lab is built for real:")
        tour.run("apply", shorter(example.path))
        tour.run("status", lab)
        say()
        own = {("apply", f"{name}.yaml"), ("plan", f"{name}.yaml")}
        tour.experiment(example, own)
        if example.fix:
            fix = read_example(EXAMPLES / f"{example.fix}.yaml")
            say(f"== the fix, {fix.name}: {fix.title}")
            tour.run("plan", shorter(fix.path))
            tour.run("apply", shorter(fix.path))
            say()
            tour.experiment(fix, {("plan", f"{fix.name}.yaml"), ("apply", f"{fix.name}.yaml")})
        say("== and away with it:")
        tour.run("destroy", lab)
        left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        say(f"namespaces left: {len(left.split())}")
        return 0
    finally:
        helper.send_signal(signal.SIGTERM)
        try:
            helper.wait(10)
        except subprocess.TimeoutExpired:
            helper.kill()
        subprocess.run(["rm", "-rf", str(base)], check=False)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "bridge-pitfall"))
