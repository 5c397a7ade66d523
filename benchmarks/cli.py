"""Command-line benchmark: the `nstopo` command as a user types it, each run a new
process, against the study notes' way (a shell script with one `ip` per step).

Figures (median of ROUNDS runs, wall time of the whole process):
- fast commands: `nstopo --help`, `status`, `destroy` of a lab that does not exist
  (one sentence, exit 1), `ping -c 1` between the two namespaces of a running lab;
  `python -c pass` for scale (the interpreter's own start-up on this machine), and
  what each command adds to it (median of the per-round differences: the machine's
  load moves both alike);
- `nstopo apply star100.yaml` + `nstopo destroy star` against `bash star100.sh up` +
  `down`, alternating in one run, both through nsenter into the same sandbox.

The helper runs in a throw-away sandbox (tests/sandbox.py) on a temporary socket; the
fast commands reach it from outside through that socket, as a user's terminal would.
Needs root; touches nothing outside its sandbox.

    sudo .venv/bin/python benchmarks/cli.py [ROUNDS] [N]      (default: 9 rounds, N=100)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from helper_process import NSTOPO, helper_in_sandbox
from labs import star
from nstopo.model.script import export_script
from nstopo.model.yamlfile import dumps
from nstopo.resources import EXAMPLES

FAST_TARGET_MS = 100
RATIO_TARGET = 0.35


def wall(argv: list[str], env: dict[str, str], expect: int = 0) -> float:
    """Seconds from start to exit of one process; its exit code must be `expect`."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != expect:
        raise RuntimeError(f"{argv} exited {done.returncode}: {done.stderr.strip()}")
    return took


def main(rounds: int, n: int) -> None:
    times: dict[str, list[float]] = {}

    def record(key: str, seconds: float) -> None:
        times.setdefault(key, []).append(seconds)

    with helper_in_sandbox("nstopo-bench-cli-") as helper:
        box = helper.sandbox
        env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
        lab_file = helper.base / f"star{n}.yaml"
        lab_file.write_text(dumps(star(n)))
        script = helper.base / f"star{n}.sh"
        script.write_text(export_script(star(n)))
        pair = str(EXAMPLES / "veth-namespaces.yaml")
        inside = box.command  # argv -> the same argv run inside the sandbox (nsenter)
        wall([NSTOPO, "apply", pair], env)  # warm-up, and the lab `ping` uses
        wall(inside(NSTOPO, "apply", str(lab_file)), env)
        wall(inside(NSTOPO, "destroy", "star"), env)
        fast = {
            "python -c pass": ([sys.executable, "-c", "pass"], 0),
            "nstopo --help": ([NSTOPO, "--help"], 0),
            "nstopo status": ([NSTOPO, "status"], 0),
            "nstopo destroy nosuch": ([NSTOPO, "destroy", "nosuch"], 1),
            "nstopo ping -c 1": (
                [NSTOPO, "ping", "veth-namespaces", "left", "right", "-c", "1"],
                0,
            ),
        }
        for i in range(rounds):
            for key, (argv, expect) in fast.items():
                record(key, wall(argv, env, expect))
            # Alternate which goes first, so neither always meets a cooler kernel.
            ways = [("nstopo", True), ("shell", False)]
            for way, is_cli in ways if i % 2 == 0 else ways[::-1]:
                if is_cli:
                    up = wall(inside(NSTOPO, "apply", str(lab_file)), env)
                    down = wall(inside(NSTOPO, "destroy", "star"), env)
                else:
                    up = wall(inside("bash", str(script), "up"), env)
                    down = wall(inside("bash", str(script), "down"), env)
                record(f"{way} up", up)
                record(f"{way} down", down)
                record(f"{way} total", up + down)
        wall([NSTOPO, "destroy", "veth-namespaces"], env)
    report(times, rounds, n)


def report(times: dict[str, list[float]], rounds: int, n: int) -> None:
    med = {key: statistics.median(values) for key, values in times.items()}
    print(f"command-line benchmark, median of {rounds} runs, {os.cpu_count()} CPUs")
    for key in ("python -c pass", "nstopo --help", "nstopo status", "nstopo destroy nosuch",
                "nstopo ping -c 1"):  # fmt: skip
        ms = med[key] * 1000
        spread = f"min {min(times[key]) * 1000:5.1f}, max {max(times[key]) * 1000:6.1f}"
        if not key.startswith("python"):  # what nstopo adds to the interpreter, same round
            pairs = zip(times[key], times["python -c pass"], strict=True)
            spread += f"; +{statistics.median(a - b for a, b in pairs) * 1000:5.1f} over python"
        verdict = "" if key.startswith("python") else (
            "  ok" if ms <= FAST_TARGET_MS else f"  over the {FAST_TARGET_MS} ms target"
        )  # fmt: skip
        print(f"  {key:<24} {ms:6.1f} ms ({spread}){verdict}")
    ours, shell = med["nstopo total"], med["shell total"]
    ratio = statistics.median(
        a / b for a, b in zip(times["nstopo total"], times["shell total"], strict=True)
    )
    print(
        f"  star N={n}: nstopo apply {med['nstopo up']:.2f} s + destroy {med['nstopo down']:.2f} s"
        f" = {ours:.2f} s | shell up {med['shell up']:.2f} s + down {med['shell down']:.2f} s"
        f" = {shell:.2f} s | nstopo/shell {ours / shell:.2f}x (median of per-round ratios "
        f"{ratio:.2f}x; target <= {RATIO_TARGET}x)"
    )


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 9, args[1] if len(args) > 1 else 100)
