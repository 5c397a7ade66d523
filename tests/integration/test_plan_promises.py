"""What validate, plan and apply --dry-run promise, apply does: the same refusals for a
foreign namespace of the same name and for a route through a down link."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from helper_process import NSTOPO, RunningHelper
from sandbox import needs_root

pytestmark = needs_root

FOREIGN = """nstopo: 1
name: plan-foreign
nodes:
  d1: {kind: netns}
"""
DOWN_GATEWAY = """nstopo: 1
name: plan-down
nodes:
  a:
    kind: netns
    routes: [{to: default, via: 10.1.0.2}]
  b: {kind: netns}
links:
  - endpoints: [{node: a, interface: eth0, addresses: [10.1.0.1/24]}, b:eth0]
    state: down
"""


def cli(helper: RunningHelper, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    return subprocess.run([NSTOPO, *args], capture_output=True, text=True, env=env, timeout=60)


def test_a_foreign_namespace_fails_plan_dry_run_and_apply_alike(
    helper: RunningHelper, tmp_path: Path
) -> None:
    helper.sandbox.run("ip", "netns", "add", "d1")  # another tool's namespace
    path = tmp_path / "foreign.yaml"
    path.write_text(FOREIGN)
    words = 'namespace "d1" already exists and was not made by this lab'
    for args in (["plan"], ["apply", "--dry-run"], ["apply"]):
        done = cli(helper, *args, str(path))
        assert done.returncode == 1 and words in done.stderr, (args, done.stderr)
        assert "ip netns add" not in done.stdout
    # Without a helper, plan still cannot promise an `ip netns add d1` that would fail.
    offline = helper.sandbox.run(
        "env", f"NSTOPO_SOCKET={tmp_path / 'none.sock'}", NSTOPO, "plan", str(path), check=False
    )
    assert offline.returncode == 1 and 'namespace "d1" already exists' in offline.stderr
    listed = helper.sandbox.run("ip", "netns", "list").stdout.split()
    assert listed == ["d1"]  # nothing was made


def test_a_route_via_a_down_link_fails_validate_plan_and_apply_before_any_step(
    helper: RunningHelper, tmp_path: Path
) -> None:
    path = tmp_path / "down.yaml"
    path.write_text(DOWN_GATEWAY)
    for args in (["validate"], ["plan"], ["apply", "--dry-run"], ["apply"]):
        done = cli(helper, *args, str(path))
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert f"{path}:6:14: error: the route to default cannot be added" in done.stderr
        assert "[route-down]" in done.stderr
    assert helper.sandbox.run("ip", "netns", "list").stdout == ""  # no step was run
    # Up, the same file applies: the route is only refused because of the down link.
    path.write_text(DOWN_GATEWAY.replace("    state: down\n", ""))
    assert cli(helper, "apply", str(path)).returncode == 0
    routes = helper.sandbox.run("ip", "-n", "a", "route", "show", "default").stdout
    assert "default via 10.1.0.2 dev eth0" in routes


def test_the_bridge_mtu_warning_says_what_the_kernel_does(
    helper: RunningHelper, tmp_path: Path
) -> None:
    path = tmp_path / "mtu.yaml"
    path.write_text(
        "nstopo: 1\nname: plan-mtu\nnodes:\n  hub: {kind: netns}\n"
        "  br0: {kind: bridge, namespace: hub, mtu: 9000}\n  a: {kind: netns}\n"
        "links:\n  - endpoints: [a:eth0, br0:p0]\n"
    )
    checked = cli(helper, "validate", str(path))
    assert checked.returncode == 0
    assert "smallest port's MTU when a port joins: 1500 (link 1)" in checked.stderr
    assert cli(helper, "apply", str(path)).returncode == 0
    shown = helper.sandbox.run("ip", "-n", "hub", "-o", "link", "show", "br0").stdout
    assert " mtu 1500 " in shown  # not the 9000 the file asked for: the warning was right
