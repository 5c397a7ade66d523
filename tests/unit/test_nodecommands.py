"""exec:/services: in the model (which nodes re-run, plan and script lines) and the
launcher's command line for each identity (no root needed)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from nstopo.backend.identity import Identity, environment, launcher
from nstopo.backend.proctable import ProcessTable, Started, proc_stat
from nstopo.model.nodecommands import changed_nodes, script_down, script_up
from nstopo.model.yamlfile import parse_text

FILE = """nstopo: 1
name: lab
nodes:
  a:
    kind: netns
    exec: ["ip route add 10.9.0.0/16 dev lo", "echo \\"it's\\""]
    services: ["sleep 100"]
  b: {kind: netns}
"""
MEMBER = Identity(1234, 1234, (1234, 999), "alice", "/home/alice", "/bin/bash")
ROOT = Identity(0, 0, (0,), "root", "/root", "/bin/sh")


def test_only_new_or_changed_nodes_run_their_exec_again() -> None:
    before = {"nodes": {"a": {"kind": "netns", "exec": ["x"]}, "b": {"kind": "netns"}}}
    after = {"nodes": {"a": {"kind": "netns", "exec": ["y"]}, "b": {"kind": "netns"},
                       "c": {"kind": "netns"}}}  # fmt: skip
    assert changed_nodes(before, after) == {"a", "c"}
    assert changed_nodes(None, after) == {"a", "b", "c"}
    assert changed_nodes(after, after) == set()


def test_the_script_runs_startup_commands_in_order_and_services_in_the_background() -> None:
    topology = parse_text(FILE, "lab.yaml").topology
    up = [line.strip() for line in script_up(topology) if line.strip()]
    assert up[1:3] == [
        "ip netns exec a sh -c 'ip route add 10.9.0.0/16 dev lo'",
        "ip netns exec a sh -c 'echo \"it'\"'\"'s\"'",
    ]
    assert up[-1] == "ip netns exec a sh -c 'sleep 100' </dev/null >/dev/null 2>&1 &"
    assert script_down(topology) == [
        '  for pid in $(ip netns pids a 2>/dev/null); do kill "$pid"; done'
    ]
    out = subprocess.run(["bash", "-n", "-c", "\n".join(script_up(topology))])
    assert out.returncode == 0


def test_a_member_gets_its_ids_and_the_network_caps_root_gets_root() -> None:
    argv = launcher("a", MEMBER, ["ip", "link"])
    assert argv[:5] == ["ip", "netns", "exec", "a", "setpriv"]
    assert argv[argv.index("--reuid") + 1] == "1234" and argv[argv.index("--regid") + 1] == "1234"
    assert argv[argv.index("--groups") + 1] == "1234,999"
    caps = "+net_admin,+net_raw,+net_bind_service"
    assert f"--ambient-caps={caps}" in argv and argv[-3:] == ["--", "ip", "link"]
    dropped = launcher("a", MEMBER, ["ip", "link"], net_caps=False)
    assert "--inh-caps=-all" in dropped and not any("ambient" in w for w in dropped)
    assert launcher("a", ROOT, ["true"]) == ["ip", "netns", "exec", "a", "true"]


def test_the_environment_is_clean_and_clients_set_only_terminal_keys() -> None:
    env = environment(MEMBER, "lab", "a", {"TERM": "xterm", "LD_PRELOAD": "/x.so", "LC_ALL": "C"})
    assert env["HOME"] == "/home/alice" and env["SHELL"] == "/bin/bash" and env["USER"] == "alice"
    assert env["TERM"] == "xterm" and env["LC_ALL"] == "C" and "LD_PRELOAD" not in env
    assert (env["NSTOPO_LAB"], env["NSTOPO_NODE"]) == ("lab", "a")


def test_the_table_finds_a_session_and_its_children_again(tmp_path: Path) -> None:
    """A session recorded by one table is found by a new one (a restarted helper), with
    what its leader started, and ended (here in our own network namespace)."""
    run_dir = tmp_path / "netns"
    run_dir.mkdir()
    (run_dir / "here").symlink_to(f"/proc/{os.getpid()}/ns/net")
    leader = subprocess.Popen(["sh", "-c", "sleep 100 & sleep 100"], start_new_session=True)
    try:
        time.sleep(0.2)
        sid, start = proc_stat(leader.pid) or (0, 0)
        assert sid == leader.pid
        ProcessTable(tmp_path, run_dir).add(
            "lab", Started(sid, start, "a", "here", "exec", 0, ["sh"])
        )
        again = ProcessTable(tmp_path, run_dir)
        found = {m.pid for _, m in again.members("lab")}
        assert leader.pid in found and len(found) == 3  # sh, its background and its own sleep
        assert set(again.end("lab")) == found
        leader.wait(5)
        time.sleep(0.1)
        assert all(proc_stat(pid) is None for pid in found)
        assert ProcessTable(tmp_path, run_dir).labs == {}
    finally:
        if leader.poll() is None:
            os.killpg(leader.pid, signal.SIGKILL)


def test_exec_options_after_the_node_and_a_commands_own_double_dash() -> None:
    from nstopo.cli.exec_cmd import _options_before_dashes
    from nstopo.cli.main import parser

    def words(*argv: str) -> tuple[list[str], bool, float | None]:
        args = parser().parse_known_args(["exec", "lab", "a", *argv])[0]
        return _options_before_dashes(args), args.tty, args.timeout

    assert words("--", "grep", "--", "x") == (["grep", "--", "x"], False, None)
    assert words("-t", "--", "ls", "--", "y") == (["ls", "--", "y"], True, None)
    assert words("--timeout", "2", "--", "ls") == (["ls"], False, 2.0)
