"""Commands in a lab's nodes (issue 15): exec.run, a pty shell, identity, the end of
every process nstopo started at destroy (also after kill -9 of the helper)."""

from __future__ import annotations

import contextlib
import grp
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helper_process import NSTOPO, RunningHelper
from nstopo.backend.client import HelperClient
from nstopo.backend.ptyclient import open_pty, set_size, wait_status
from nstopo.protocol.errors import ErrorCode, RpcError
from sandbox import needs_root

pytestmark = needs_root


def lab_text(name: str, extra: str = "") -> str:
    return f"""nstopo: 1
name: {name}
nodes:
  left:
    kind: netns
{extra}  right:
    kind: netns
  br0:
    kind: bridge
    namespace: right
  hostbr:
    kind: bridge
links:
  - endpoints:
      - {{node: left, interface: eth0, addresses: [10.15.0.1/24]}}
      - {{node: right, interface: eth0, addresses: [10.15.0.2/24]}}
"""


def lab_pids(lab: str) -> list[int]:
    """Every process on the machine started for `lab` (its environment says so)."""
    mark = f"NSTOPO_LAB={lab}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if mark in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                    found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.fixture
def lab() -> Iterator[str]:
    """A lab name unique to this run; whatever was started for it is killed after."""
    name = f"x15-{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        for pid in lab_pids(name):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def run(client: HelperClient, lab: str, node: str, *argv: str, **extra: object) -> dict:
    return client.call("exec.run", {"lab": lab, "node": node, "argv": list(argv), **extra})


def test_output_and_exit_status_kept_apart(helper: RunningHelper, lab: str) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": lab_text(lab)})
        result = run(client, lab, "left", "sh", "-c", "echo out; echo err >&2; exit 3")
        assert result == {"status": 3, "stdout": "out\n", "stderr": "err\n"}
        # in the node's namespace, and a bridge node's commands run where it lives
        assert "eth0" in run(client, lab, "left", "ip", "-br", "link")["stdout"]
        assert "br0" in run(client, lab, "br0", "ip", "-br", "link")["stdout"]
        # /sys is the node's (as ip netns exec), the signal becomes 128 + n, UTF-8 comes back
        assert "eth0" in run(client, lab, "left", "ls", "/sys/class/net")["stdout"]
        assert run(client, lab, "left", "sh", "-c", "kill -TERM $$")["status"] == 143
        assert (
            run(client, lab, "left", "printf", "\u00e9\u4e2d\\377")["stdout"]
            == "\u00e9\u4e2d\ufffd"
        )
        assert run(client, lab, "left", "cat", stdin="fed\n")["stdout"] == "fed\n"
        slow = run(client, lab, "left", "sleep", "30", timeout=0.3)
        assert (slow["status"], slow["timed_out"]) == (137, True)
        # the host namespace and strangers are refused
        for node, code in (
            ("hostbr", ErrorCode.INVALID_PARAMS),
            ("nope", ErrorCode.INVALID_PARAMS),
        ):
            with pytest.raises(RpcError) as refused:
                run(client, lab, node, "true")
            assert refused.value.code == code
        with pytest.raises(RpcError) as refused:
            run(client, "no-such-lab", "left", "true")
        assert refused.value.code == ErrorCode.NO_SUCH_LAB
        client.call("lab.destroy", {"lab": lab})


def test_a_namespace_outside_any_lab_is_refused(
    helper: RunningHelper, lab: str, tmp_path: Path
) -> None:
    """Another tool's namespace is no node, whatever lab the request names; nothing runs."""
    helper.sandbox.run("ip", "netns", "add", "outside")
    marker = tmp_path / "ran"
    argv = ["touch", str(marker)]
    with helper.client() as client:
        client.call("lab.apply", {"topology": lab_text(lab)})
        for in_lab, code in ((lab, ErrorCode.INVALID_PARAMS), ("outside", ErrorCode.NO_SUCH_LAB)):
            for method in ("exec.run", "exec.pty"):
                with pytest.raises(RpcError) as refused:
                    client.call(method, {"lab": in_lab, "node": "outside", "argv": argv})
                assert refused.value.code == code, (method, in_lab, refused.value)
        assert run(client, lab, "left", "true")["status"] == 0  # the lab's own node runs
        client.call("lab.destroy", {"lab": lab})
    assert not marker.exists()
    assert helper.sandbox.run("ip", "netns", "list").stdout.split() == ["outside"]


def cli(helper: RunningHelper, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    return subprocess.run([NSTOPO, *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_command_line(helper: RunningHelper, lab: str) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": lab_text(lab)})
    done = cli(helper, "exec", lab, "left", "--", "sh", "-c", "exit 3")
    assert done.returncode == 3, done.stderr
    done = cli(helper, "exec", lab, "left", "--", "ip", "-4", "-o", "addr", "show", "eth0")
    assert (done.returncode, "10.15.0.1/24" in done.stdout) == (0, True), done
    # several nodes (a glob too): lines prefixed by node, the worst status
    done = cli(helper, "exec", lab, "l*,right", "--", "sh", "-c",
               'echo "$NSTOPO_NODE"; [ "$NSTOPO_NODE" = left ] || exit 4')  # fmt: skip
    assert done.returncode == 4
    assert sorted(done.stdout.splitlines()) == ["left: left", "right: right"]
    done = cli(helper, "exec", lab, "left,hostbr", "--", "echo", "hi")  # one refused
    assert done.returncode == 1 and done.stdout == "left: hi\n"
    assert done.stderr.startswith('hostbr: nstopo: node "hostbr" is in the host namespace')
    done = cli(helper, "exec", lab, "nope", "--", "true")
    assert done.returncode == 1 and "no node" in done.stderr and "Traceback" not in done.stderr
    with helper.client() as client:
        client.call("lab.destroy", {"lab": lab})


def read_until(fd: int, wanted: bytes, timeout: float = 10) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {wanted!r} in {seen!r}"
        if select.select([fd], [], [], left)[0]:
            try:
                seen += os.read(fd, 4096)
            except OSError as exc:  # EIO: the other side closed
                raise EOFError(f"closed after {seen!r}") from exc
    return seen


def test_a_shell_through_a_pty(helper: RunningHelper, lab: str) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": lab_text(lab)})
        fd, started = open_pty(client, {"lab": lab, "node": "left", "argv": ["sh"]})
        try:
            os.write(fd, b"echo $((6*7))\n")
            read_until(fd, b"42\r\n")
            os.write(fd, b"stty size; tty\n")
            out = read_until(fd, b"/dev/pts/")
            assert b"24 80" in out
            set_size(fd, 30, 100)  # a resize on the handed-over master reaches the node
            os.write(fd, b"stty size\n")
            read_until(fd, b"30 100")
            os.write(fd, "echo \u00e9\u4e2d | od -An -tx1\n".encode())  # UTF-8 both ways
            read_until(fd, b"c3 a9 e4 b8 ad 0a")
            os.write(fd, b"sleep 100\n")
            time.sleep(0.3)
            os.write(fd, b"\x03")  # Ctrl-C: the pty's line discipline sends SIGINT
            os.write(fd, b"echo after-$((1+1))\n")
            read_until(fd, b"after-2", timeout=5)
            os.write(fd, b"exit 5\n")
            with contextlib.suppress(EOFError):
                read_until(fd, b"never", timeout=5)  # EIO once the shell is gone
        finally:
            os.close(fd)
        assert wait_status(client, started["pid"]) == 5
        client.call("lab.destroy", {"lab": lab})


def sessions(client: HelperClient, lab: str) -> list[dict]:
    return client.call("lab.status", {"lab": lab})[0]["processes"]


def test_what_exec_left_running_ends_with_the_lab(helper: RunningHelper, lab: str) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": lab_text(lab)})
        started = run(client, lab, "left", "sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!")
        pid = int(started["stdout"])
        assert alive(pid)
        listed = sessions(client, lab)
        assert pid in [p["pid"] for p in listed]
        assert all(p["node"] == "left" and p["kind"] == "exec" for p in listed)
        shown = cli(helper, "status", lab).stdout
        assert f"pid {pid} uid 0: (started by it)" in shown, shown
        client.call("lab.destroy", {"lab": lab})
    assert not alive(pid)
    assert lab_pids(lab) == []


def test_nothing_survives_kill_9_of_the_helper_restart_and_destroy(
    helper: RunningHelper, lab: str
) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": lab_text(lab)})
        pid = int(
            run(client, lab, "right", "sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!")["stdout"]
        )
        fd, shell = open_pty(client, {"lab": lab, "node": "left", "argv": ["sh"]})
    os.write(fd, b"trap '' TERM; sleep 1000\n")  # one that ignores TERM: KILL ends it
    time.sleep(0.2)
    helper.kill9()
    helper.start()
    assert alive(pid) and alive(shell["pid"])
    with helper.client() as client:
        assert {pid, shell["pid"]} <= {p["pid"] for p in sessions(client, lab)}
        client.call("lab.destroy", {"lab": lab})
    os.close(fd)
    assert not alive(pid) and not alive(shell["pid"])
    assert lab_pids(lab) == []


MEMBER_CALL = """
import json, socket, sys
sock = socket.socket(socket.AF_UNIX)
try:
    sock.connect(sys.argv[1])
except PermissionError:  # the socket's mode: not even connected
    print(json.dumps({"error": {"code": -32007, "message": "socket mode"}})); sys.exit()
reader = sock.makefile("rb")
def call(i, method, params):
    sock.sendall(json.dumps({"jsonrpc": "2.0", "id": i, "method": method,
                             "params": params}).encode() + b"\\n")
    while True:
        line = reader.readline()
        if not line:
            return {"closed": True}
        reply = json.loads(line)
        if "method" not in reply:
            return reply
first = call(0, "hello", {"protocol": [1]})
if "error" in first:
    print(json.dumps(first)); sys.exit()
for method, params in json.loads(sys.argv[2]):
    print(json.dumps(call(1, method, params)))
"""


@pytest.fixture
def users(sandbox: object) -> Iterator[tuple[RunningHelper, str, list[str]]]:
    """A helper whose group has the member m15-<run> (and bob), plus an outsider."""
    tag = uuid.uuid4().hex[:6]
    group, names = f"g15-{tag}", [f"m15-{tag}", f"b15-{tag}", f"o15-{tag}"]
    subprocess.run(["groupadd", group], check=True)
    base = Path(tempfile.mkdtemp(prefix="nstopo-t15-"))
    os.chmod(base, 0o755)
    try:
        for user in names[:2]:
            subprocess.run(["useradd", "-M", "-N", "-G", group, user], check=True)
        subprocess.run(["useradd", "-M", "-N", names[2]], check=True)
        running = RunningHelper(sandbox, base, group)  # type: ignore[arg-type]
        running.start()
        try:
            yield running, group, names
        finally:
            running.stop()
    finally:
        for user in names:
            subprocess.run(["userdel", user], check=False)
        subprocess.run(["groupdel", group], check=False)
        shutil.rmtree(base, ignore_errors=True)


def as_user(helper: RunningHelper, user: str, group: str | None, calls: list) -> list[dict]:
    python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    groups = [grp.getgrnam(group).gr_gid] if group else []
    done = subprocess.run(
        [python, "-c", MEMBER_CALL, str(helper.socket), json.dumps(calls)],
        user=user, group=groups[0] if groups else None, extra_groups=groups,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_a_member_runs_as_itself_with_the_network_caps(users: tuple, lab: str) -> None:
    import pwd

    helper, group, (member, other, outsider) = users
    script = "id -u; id -g; id -G; grep CapAmb /proc/self/status; echo $HOME; echo $SHELL; " \
        "ip link set dev lo up && echo up"  # fmt: skip
    (applied, ran, ip_link) = as_user(helper, member, group, [
        ("lab.apply", {"topology": lab_text(lab)}),
        ("exec.run", {"lab": lab, "node": "left", "argv": ["sh", "-c", script]}),
        ("exec.run", {"lab": lab, "node": "left", "argv": ["ip", "-br", "link", "show", "lo"]}),
    ])  # fmt: skip
    assert "result" in applied, applied
    entry, gid = pwd.getpwnam(member), grp.getgrnam(group).gr_gid
    # uid and gid as SO_PEERCRED gave them, the caller's groups, HOME and SHELL from passwd
    assert ran["result"]["stdout"].splitlines() == [
        str(entry.pw_uid), str(gid), str(gid), "CapAmb:\t0000000000003400",  # NET_BIND_SERVICE,
        entry.pw_dir, entry.pw_shell or "/bin/sh", "up",  # NET_ADMIN, NET_RAW
    ], ran  # fmt: skip
    assert ran["result"]["status"] == 0
    assert "UP" in ip_link["result"]["stdout"]
    # another member may not run commands in this member's lab; an outsider not at all
    (refused,) = as_user(helper, other, group, [
        ("exec.run", {"lab": lab, "node": "left", "argv": ["true"]})])  # fmt: skip
    assert refused["error"]["code"] == ErrorCode.NOT_OWNED
    (stranger,) = as_user(helper, outsider, None, [
        ("exec.run", {"lab": lab, "node": "left", "argv": ["true"]})])  # fmt: skip
    assert stranger["error"]["code"] == ErrorCode.NOT_AUTHORIZED
    with helper.client() as client:
        client.call("lab.destroy", {"lab": lab})


def test_what_the_net_caps_let_a_member_do_beyond_the_lab(users: tuple, lab: str) -> None:
    """What docs/protocol.md says: with the ambient network capabilities a member's
    command can put an interface into the host's namespace (here the sandbox's
    stand-in host, by its pid) and name another namespace through /run/netns, but not
    enter one (setns needs CAP_SYS_ADMIN)."""
    helper, group, (member, _, _) = users
    host_pid = helper.sandbox.holder.pid
    script = (
        f"ip link add x15 type veth peer name y15 netns {host_pid} && echo moved; "
        "ip link add x16 type veth peer name y16 netns right && echo named; "
        "nsenter --net=/run/netns/right true 2>/dev/null || echo no-setns"
    )
    applied, ran = as_user(helper, member, group, [
        ("lab.apply", {"topology": lab_text(lab)}),
        ("exec.run", {"lab": lab, "node": "left", "argv": ["sh", "-c", script]}),
    ])  # fmt: skip
    assert "result" in applied, applied
    assert ran["result"]["stdout"].split() == ["moved", "named", "no-setns"], ran
    assert "y15" in helper.sandbox.run("ip", "-br", "link").stdout  # in the host's namespace
    assert "y16" in helper.sandbox.run("ip", "-n", "right", "-br", "link").stdout
    helper.sandbox.run("ip", "link", "del", "y15")
    with helper.client() as client:
        client.call("lab.destroy", {"lab": lab, "force": True})


def test_the_shipped_units_capabilities_let_a_members_command_run(
    users: tuple, lab: str, tmp_path: Path
) -> None:
    """The helper as packaging/systemd/nstopo-helper.service runs it: socket-activated
    (the socket root:GROUP 0660, as nstopo-helper.socket makes it), with only the unit's
    CapabilityBoundingSet and no new privileges (setpriv stands in for systemd)."""
    from types import SimpleNamespace

    unit = (Path(__file__).resolve().parents[2] / "packaging" / "systemd"
            / "nstopo-helper.service").read_text()  # fmt: skip
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[:1] != "#"
    )
    caps = ",".join(f"+{c.removeprefix('CAP_').lower()}" for c in settings[
        "CapabilityBoundingSet"].split())  # fmt: skip
    assert settings["NoNewPrivileges"] == "yes"
    helper, group, (member, _, _) = users
    path, state = helper.base / "unit.sock", helper.base / "unit-state"
    state.mkdir(mode=0o700)
    with open(tmp_path / "helper.log", "w") as log:
        proc = helper.sandbox.popen(
            "setpriv", f"--bounding-set=-all,{caps}", "--no-new-privs", "--",
            "systemd-socket-activate", "-l", str(path), NSTOPO, "helper",
            "--state-dir", str(state), "--group", group, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(path.exists)
        os.chown(path, 0, grp.getgrnam(group).gr_gid)
        path.chmod(0o660)
        unit_helper = SimpleNamespace(socket=path)
        applied, ran = as_user(unit_helper, member, group, [  # type: ignore[arg-type]
            ("lab.apply", {"topology": lab_text(lab)}),
            ("exec.run", {"lab": lab, "node": "left", "argv": [
                "sh", "-c", "id -u; ip link set dev lo up && echo up"]}),
        ])  # fmt: skip
        assert "result" in applied, (applied, (tmp_path / "helper.log").read_text())
        assert "result" in ran, ran
        uid = str(pwd_uid(member))
        assert ran["result"]["stdout"].split() == [uid, "up"], ran
        with HelperClient(str(path), timeout=60) as client:
            client.call("lab.destroy", {"lab": lab, "force": True})
    finally:
        proc.terminate()
        proc.wait(10)


def pwd_uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid


SERVICE_LAB = """    exec:
      - "echo first-$(id -u)"
      - "ip link set dev lo down && echo lo-down"
    services:
      - "echo svc-$(id -u); exec sleep 1000"
"""


def service_pids(client: HelperClient, lab: str) -> list[int]:
    return [p["pid"] for p in sessions(client, lab) if p["kind"] == "service" and p["argv"]]


def wait_for(test, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := test():
            return found
        time.sleep(0.05)
    raise AssertionError("not within the time")


def test_startup_commands_and_a_service_from_the_file(helper: RunningHelper, lab: str) -> None:
    text = lab_text(lab, SERVICE_LAB)
    with helper.client() as client:
        applied = client.call("lab.apply", {"topology": text})
        ran = [(r["node"], r["command"], r["status"], r["stdout"]) for r in applied["exec"]]
        assert ran == [
            ("left", "echo first-$(id -u)", 0, "first-0\n"),
            ("left", "ip link set dev lo down && echo lo-down", 0, "lo-down\n"),
        ]
        (pid,) = wait_for(lambda: service_pids(client, lab))
        assert wait_for(lambda: "svc-0" in client.call(
            "exec.logs", {"lab": lab, "node": "left"})["text"])  # fmt: skip
        # the same file again: nothing re-runs, the service keeps its process
        again = client.call("lab.apply", {"topology": text})
        assert again["exec"] == [] and service_pids(client, lab) == [pid]
        # it ended: the supervisor starts it again (1 s back-off)
        os.kill(pid, signal.SIGKILL)
        (restarted,) = wait_for(lambda: [p for p in service_pids(client, lab) if p != pid])
        log = client.call("exec.logs", {"lab": lab, "node": "left"})["text"]
        assert log.count("svc-0") == 2 and "ended with status 137" in log
        # a failing startup command is reported, and its node's later ones skipped
        failing = text.replace('"echo first-$(id -u)"', '"echo oops >&2; exit 7"')
        report = client.call("lab.apply", {"topology": failing})["exec"]
        assert [(r["status"], r["stderr"]) for r in report] == [(7, "oops\n")]
        client.call("lab.destroy", {"lab": lab})
    assert not alive(restarted)
    assert lab_pids(lab) == []


def test_plan_lists_the_startup_commands_apply_will_run(
    helper: RunningHelper, lab: str, tmp_path: Path
) -> None:
    """Against a running lab, only the exec: of new or changed nodes runs again: plan
    says exactly those (it listed every node's)."""
    first = lab_text(lab, '    exec: ["echo one"]\n')
    second = first.replace("  right:\n    kind: netns\n",
                           '  right:\n    kind: netns\n    exec: ["echo two"]\n')  # fmt: skip
    path = tmp_path / "lab.yaml"
    path.write_text(first)
    assert "ip netns exec left sh -c 'echo one'" in cli(helper, "plan", str(path)).stdout
    assert cli(helper, "apply", str(path)).returncode == 0
    assert "exec" not in cli(helper, "plan", str(path)).stdout  # nothing would run again
    path.write_text(second)
    planned = cli(helper, "plan", str(path))
    assert planned.returncode == 0, planned.stderr
    assert "ip netns exec right sh -c 'echo two'" in planned.stdout
    assert "echo one" not in planned.stdout
    applied = cli(helper, "apply", str(path))
    assert "right: exec 'echo two': ok" in applied.stdout and "one" not in applied.stdout
    with helper.client() as client:
        client.call("lab.destroy", {"lab": lab})


@pytest.mark.parametrize("end", ["kill9", "stop"])
def test_services_end_after_kill_9_restart_and_destroy(
    helper: RunningHelper, lab: str, end: str
) -> None:
    """The helper killed (kill -9) or stopped (SIGTERM, a restart), then started again."""
    with helper.client() as client:
        client.call("lab.apply", {"topology": lab_text(lab, SERVICE_LAB)})
        (old,) = wait_for(lambda: service_pids(client, lab))
        background = int(
            run(client, lab, "right", "sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!")["stdout"]
        )
    helper.kill9() if end == "kill9" else helper.stop()
    assert alive(old) == (end == "kill9")  # a stopping helper ends what it supervised
    helper.start()  # ends what the dead helper supervised, and supervises it again
    with helper.client() as client:
        (new,) = wait_for(lambda: service_pids(client, lab))
        assert new != old and not alive(old)
        assert alive(background) and background in [p["pid"] for p in sessions(client, lab)]
        client.call("lab.destroy", {"lab": lab})
    assert not alive(new) and not alive(background)
    assert lab_pids(lab) == []


def test_the_file_runs_as_the_member_who_applied_it(users: tuple, lab: str) -> None:
    helper, group, (member, _, _) = users
    uid = subprocess.run(["id", "-u", member], capture_output=True, text=True).stdout.strip()
    (applied,) = as_user(
        helper, member, group, [("lab.apply", {"topology": lab_text(lab, SERVICE_LAB)})]
    )
    ran = applied["result"]["exec"]
    assert [r["stdout"] for r in ran] == [f"first-{uid}\n", "lo-down\n"], ran
    with helper.client() as client:
        (pid,) = wait_for(lambda: service_pids(client, lab))
        assert Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0] == uid
        ((logs,),) = [as_user(helper, member, group, [("exec.logs", {"lab": lab, "node": "left"})])]
        assert f"svc-{uid}" in logs["result"]["text"]
    (destroyed,) = as_user(helper, member, group, [("lab.destroy", {"lab": lab})])
    assert "result" in destroyed
    assert not alive(pid) and lab_pids(lab) == []


def test_a_node_removed_by_a_reapply_takes_its_processes_along(
    helper: RunningHelper, lab: str
) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": lab_text(lab, SERVICE_LAB)})
        (service,) = wait_for(lambda: service_pids(client, lab))
        pid = int(
            run(client, lab, "left", "sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!")["stdout"]
        )
        kept = int(
            run(client, lab, "right", "sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!")["stdout"]
        )
        without_left = lab_text(lab).replace("  left:\n    kind: netns\n", "").split("links:")[0]
        client.call("lab.apply", {"topology": without_left + "links: []\n"})
        assert not alive(pid) and not alive(service) and alive(kept)
        assert "left" not in helper.sandbox.run("ip", "netns", "list").stdout
        client.call("lab.destroy", {"lab": lab})
    assert not alive(kept) and lab_pids(lab) == []


def test_nstopo_shell_on_a_terminal_and_nstopo_logs(helper: RunningHelper, lab: str) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": lab_text(lab, SERVICE_LAB)})
        wait_for(lambda: service_pids(client, lab))
    master, slave = os.openpty()
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket), "SHELL": "/bin/sh"}
    shell = subprocess.Popen([NSTOPO, "shell", lab, "right"], stdin=slave, stdout=slave,
                             stderr=slave, env=env, start_new_session=True)  # fmt: skip
    os.close(slave)
    try:
        read_until(master, b"# ")  # root's shell from passwd is ready (typeahead may be lost)
        os.write(master, b"echo $((6*7)) $NSTOPO_NODE\n")
        read_until(master, b"42 right")
        os.write(master, b"exit 4\n")
        assert shell.wait(10) == 4  # the shell's own exit status
    finally:
        if shell.poll() is None:
            shell.kill()
        os.close(master)
    # exec -t: one command on a terminal, its status passed on
    master, slave = os.openpty()
    tty = subprocess.Popen([NSTOPO, "exec", lab, "left", "-t", "--", "sh", "-c", "tty; exit 6"],
                           stdin=slave, stdout=slave, stderr=slave, env=env)  # fmt: skip
    os.close(slave)
    try:
        read_until(master, b"/dev/pts/")
        assert tty.wait(10) == 6
    finally:
        if tty.poll() is None:
            tty.kill()
        os.close(master)
    logs = wait_for(lambda: (done := cli(helper, "logs", lab, "left")).stdout and done)
    assert logs.returncode == 0 and "svc-0" in logs.stdout and "[nstopo] started" in logs.stdout
    with helper.client() as client:
        client.call("lab.destroy", {"lab": lab})


def test_no_net_caps_runs_a_members_commands_without_capabilities(
    users: tuple, lab: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    helper, group, (member, _, _) = users
    helper.stop()
    started = helper.sandbox.popen

    def popen(*argv: str, **kwargs: object) -> subprocess.Popen:
        return started(*argv, *(["--no-net-caps"] if argv[1:2] == ("helper",) else []), **kwargs)

    monkeypatch.setattr(helper.sandbox, "popen", popen)
    helper.start()
    script = "grep -E 'CapAmb|CapEff' /proc/self/status; ip link set dev lo down || echo refused"
    applied, ran = as_user(helper, member, group, [
        ("lab.apply", {"topology": lab_text(lab)}),
        ("exec.run", {"lab": lab, "node": "left", "argv": ["sh", "-c", script]}),
    ])  # fmt: skip
    assert "result" in applied, applied
    out = ran["result"]["stdout"].split()
    assert out[:4] == ["CapEff:", "0000000000000000", "CapAmb:", "0000000000000000"], out
    assert out[-1] == "refused"
    (destroyed,) = as_user(helper, member, group, [("lab.destroy", {"lab": lab})])
    assert "result" in destroyed
