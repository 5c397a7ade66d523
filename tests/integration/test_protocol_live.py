"""The protocol against a real helper: every result and every notification it sends
fits its type in nstopo.protocol.messages; events can be subscribed to before the lab
runs; the command line reports a bad file through the helper exactly as `validate`."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections import Counter
from typing import Any

from helper_process import NSTOPO, Listener, RunningHelper
from nstopo.backend.ptyclient import open_pty
from nstopo.protocol import messages as m
from nstopo.protocol.check import conforms
from nstopo.protocol.methods import Method, Notification
from nstopo.protocol.upload import upload_parts
from nstopo.resources import EXAMPLES
from sandbox import needs_root

pytestmark = needs_root
LAB = "bridge-pitfall"  # bridge-fixed.yaml: hub (br0 with 10.77.0.1), a (10.77.0.2)


class Checked:
    """Every notification and result seen, with what did not fit its type."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.problems: list[str] = []

    def note(self, method: str, params: Any) -> None:
        self.seen[method] += 1
        self.problems += conforms(m.NOTIFICATIONS[Notification(method)], params, method)

    def result(self, method: Method, result: Any) -> Any:
        self.seen[method] += 1
        self.problems += conforms(m.METHODS[method][1], result, method)
        return result

    def listener(self, listener: Listener) -> None:
        for _, method, params in listener.events:
            self.note(method, params)


def test_every_result_and_notification_fits_its_type(helper: RunningHelper) -> None:
    checked = Checked()
    text = (EXAMPLES / "bridge-fixed.yaml").read_text()
    events = Listener(helper, Method.EVENTS_SUBSCRIBE, {"lab": LAB})  # before it runs
    checked.result(Method.EVENTS_SUBSCRIBE, events.result)
    assert events.result["running"] is False
    with helper.client() as client:
        call = lambda method, params=None: checked.result(  # noqa: E731
            method, client.call(method, params, checked.note)
        )
        checked.result(Method.HELLO, client.server)
        call(Method.LAB_PLAN, {"topology": text, "source": "bridge-fixed.yaml"})
        call(Method.LAB_APPLY, {"topology": text, "source": "bridge-fixed.yaml"})
        events.wait_for(lambda m, p: m == "link.changed" and p["name"] == "br0")
        counters = Listener(helper, Method.COUNTERS_SUBSCRIBE, {"lab": LAB, "interval": 0.1})
        checked.result(Method.COUNTERS_SUBSCRIBE, counters.result)
        capture = Listener(
            helper,
            Method.CAPTURE_START,
            {"lab": LAB, "node": "a", "interface": "eth0", "raw": True, "count": 4},
        )
        checked.result(Method.CAPTURE_START, capture.result)
        ping = {"lab": LAB, "source": "a", "target": "hub", "count": 2, "interval": 0.05}
        call(Method.PING_START, ping)
        capture.wait_for(lambda m, p: m == "capture.end")
        # No such neighbour: ARP gives up (~3 s) and the kernel says host unreachable.
        unreachable = {**ping, "target": "10.77.0.99", "count": 1, "timeout": 5.0}
        call(Method.PING_START, unreachable)
        stopped = client.call(Method.CAPTURE_START, {"lab": LAB, "node": "br0"}, checked.note)
        call(Method.CAPTURE_STOP, {"capture": stopped["capture"]})
        call(Method.BRIDGE_FDB, {"lab": LAB, "node": "br0"})
        call(Method.EXEC_RUN, {"lab": LAB, "node": "a", "argv": ["ip", "route"]})
        call(Method.NODE_SHOW, {"lab": LAB, "node": "a", "sections": ["routes", "neigh"]})
        call(Method.EXEC_LOGS, {"lab": LAB, "node": "a"})
        fd, opened = open_pty(client, {"lab": LAB, "node": "a", "argv": ["true"]})
        checked.result(Method.EXEC_PTY, opened)
        with contextlib.suppress(OSError):  # EIO once `true` has gone
            while os.read(fd, 4096):
                pass
        os.close(fd)
        call(Method.EXEC_WAIT, {"pid": opened["pid"]})
        name, parts = upload_parts(text)
        for part in parts:
            call(Method.UPLOAD_PART, part)
        call(Method.LAB_PLAN, {"upload": name})
        call(Method.LAB_STATUS, {"lab": None})
        call(Method.LAB_TOPOLOGY, {"lab": LAB})
        call(Method.HOST_DISCOVER)
        call(Method.HELPER_INFO)
        call(Method.HOST_DOCTOR)
        counters.wait_for(lambda m, p: m == "counters")
        call(Method.LAB_DESTROY, {"lab": LAB})
        events.wait_for(lambda m, p: m == "lab.changed" and p["change"] == "destroyed")
        call(Method.EVENTS_UNSUBSCRIBE)
        call(Method.COUNTERS_UNSUBSCRIBE)
    for listener in (events, counters, capture):
        listener.close()
        checked.listener(listener)
    assert checked.problems == []
    assert set(Notification) <= set(checked.seen), set(Notification) - set(checked.seen)
    untested = {Method.PING_STOP}  # its result is checked by the unit test's docs check only
    assert set(Method) - untested <= set(checked.seen), set(Method) - set(checked.seen)


def test_events_subscribed_ahead_start_when_the_lab_is_applied(helper: RunningHelper) -> None:
    events = Listener(helper, Method.EVENTS_SUBSCRIBE, {"lab": "veth-namespaces"})
    try:
        assert events.result == {"lab": "veth-namespaces", "watching": 0, "running": False}
        with helper.client() as client:
            # Another lab's events do not reach a listener of this one.
            client.call(Method.LAB_APPLY, {"topology": (EXAMPLES / "loopback.yaml").read_text()})
            client.call(
                Method.LAB_APPLY, {"topology": (EXAMPLES / "veth-namespaces.yaml").read_text()}
            )
        _, applied = events.wait_for(lambda m, p: m == "lab.changed")
        assert applied == {"lab": "veth-namespaces", "change": "applied"}
        events.wait_for(
            lambda m, p: m == "link.changed" and p["namespace"] == "left" and p["name"] == "eth0"
        )
        assert {p.get("lab") for _, _, p in events.events} == {"veth-namespaces"}
    finally:
        events.close()


def test_apply_of_a_bad_file_prints_what_validate_prints(helper: RunningHelper, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "nstopo: 1\nname: x\nnodes:\n  a: {kind: netns}\n  br0: {kind: bridge}\nlinks:\n"
        "  - endpoints: [a:eth0, b:eth0]\n  - endpoints: [br0:p0, {node: a, interface: eth1, "
        "addresses: [10.1.0.1/24]}]\n  - endpoints: [br0:p1, {node: a, interface: eth2, "
        "addresses: [nope]}]\n"
    )
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([NSTOPO, *args], capture_output=True, text=True, env=env)

    offline = cli("validate", str(bad))
    assert offline.returncode == 1 and offline.stderr.count(": error: ") == 2
    for command in ("apply", "plan"):
        online = cli(command, str(bad))
        assert (online.returncode, online.stdout) == (1, "")
        assert online.stderr == offline.stderr
    assert helper.sandbox.run("ip", "netns", "list").stdout == ""


def test_plan_through_the_helper_prints_the_files_warnings(helper: RunningHelper) -> None:
    path = str(EXAMPLES / "bridge-pitfall.yaml")  # an address on an enslaved port
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    validate = subprocess.run([NSTOPO, "validate", path], capture_output=True, text=True)
    plan = subprocess.run([NSTOPO, "plan", path], capture_output=True, text=True, env=env)
    assert plan.returncode == 0
    warning = validate.stderr.splitlines()[0]
    assert warning.startswith(f"{path}:") and ": warning: " in warning
    assert plan.stderr.splitlines()[0] == warning
    assert "is not running: these steps change it" in plan.stderr


def test_events_cli_waits_for_a_lab_that_is_applied_later(helper: RunningHelper) -> None:
    import json
    import signal

    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    proc = subprocess.Popen(
        [NSTOPO, "events", "veth-namespaces"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        assert "does not run yet" in proc.stderr.readline()  # said before anything runs
        with helper.client() as client:
            text = (EXAMPLES / "veth-namespaces.yaml").read_text()
            client.call(Method.LAB_APPLY, {"topology": text})
        first = json.loads(proc.stdout.readline())
        assert first["lab"] == "veth-namespaces"
        assert first["event"] in ("link.changed", "addr.changed", "lab.changed")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) in (0, 130)
