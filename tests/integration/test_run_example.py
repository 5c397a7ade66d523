"""`scripts/run-example` without a display (root): the bridge pitfall's experiment runs
for real in a private sandbox, the fix after it, and nothing is left (issue 12)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sandbox import needs_root

ROOT = Path(__file__).parents[2]


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(
        [str(ROOT / "scripts/run-example"), *args],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def section(out: str, title: str) -> list[str]:
    """The lines printed after `title` up to the next command or heading."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rest = lines[start + 1 :]
    ends = [i for i, line in enumerate(rest) if line.startswith(("# nstopo", "-- ", "== "))]
    return rest[: ends[0]] if ends else rest


@needs_root
def test_the_bridge_pitfall_runs_for_real_then_its_fix(tmp_path: Path) -> None:
    before = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    done = run_example()
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "# nstopo apply resources/examples/bridge-pitfall.yaml" in out
    assert "lab bridge-pitfall: applied 12 steps" in out
    # The failing ping on p0, watched by both captures.
    failing = section(out, "# nstopo ping bridge-pitfall hub a -I p0")
    assert any("100% packet loss" in line for line in failing), failing
    on_p0 = section(out, "-- what `nstopo capture bridge-pitfall hub:p0 arp` saw")
    assert any("out ARP, Request who-has 10.77.0.2" in line for line in on_p0), on_p0
    assert any("in  ARP, Reply 10.77.0.2" in line for line in on_p0), on_p0
    first_br0 = out.index("-- what `nstopo capture bridge-pitfall hub:br0 arp` saw")
    on_br0 = section(out[first_br0:], "-- what")
    assert any("ARP, Reply 10.77.0.2" in line for line in on_br0), on_br0
    assert not any("Request" in line for line in on_br0), on_br0  # br0: only the reply
    # The fix: the address moves, the ping answers, br0 sees request and reply.
    fix = out[out.index("== the fix, bridge-fixed") :]
    assert "ip -n hub addr del 10.77.0.1/24 dev p0" in fix
    assert "lab bridge-pitfall: applied 2 steps" in fix
    working = section(fix, "# nstopo ping bridge-pitfall hub a -c 2")
    assert any(" 0% packet loss" in line for line in working), working
    fixed_br0 = section(fix, "-- what `nstopo capture bridge-pitfall hub:br0 arp` saw")
    assert any("Request who-has 10.77.0.2" in line for line in fixed_br0), fixed_br0
    assert "lab bridge-pitfall: removed" in out and "namespaces left: 0" in out
    after = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert after == before  # all of it happened in the private network stack


def test_an_unknown_example_is_named_with_the_choices() -> None:
    done = run_example("no-such-lab")
    assert done.returncode == 2
    assert 'no example "no-such-lab"; choose one of:' in done.stderr
    assert "bridge-pitfall" in done.stderr
