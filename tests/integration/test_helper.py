"""The helper on the real kernel: apply, re-apply, edit, destroy, ownership, faults."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from expectations import assert_kernel_matches, expected_facts
from helper_process import RunningHelper
from labs import star
from nstopo.backend.client import HelperClient
from nstopo.model.plan import plan_up
from nstopo.model.state import kernel_state
from nstopo.model.types import Endpoint, HostNode, NetnsNode
from nstopo.model.yamlfile import dumps, load
from nstopo.protocol.errors import ErrorCode, RpcError
from nstopo.protocol.wire import MAX_MESSAGE_BYTES
from nstopo.resources import EXAMPLES
from sandbox import needs_root

pytestmark = needs_root
HOST_ONLY = ("/eth0", "/eth0-peer")  # the sandbox's stand-in uplink


def kernel_names(helper: RunningHelper) -> tuple[str, str]:
    netns = helper.sandbox.run("ip", "netns", "list").stdout
    links = helper.sandbox.run("ip", "-br", "link").stdout
    return netns, "\n".join(sorted(line.split()[0] for line in links.splitlines()))


def apply(client: HelperClient, text: str, **extra: object) -> dict:
    return client.call("lab.apply", {"topology": text, **extra})


@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.yaml")))
def test_every_example_applies_matches_reapplies_and_destroys(
    helper: RunningHelper, example: str
) -> None:
    topology = load(EXAMPLES / f"{example}.yaml").topology
    text = (EXAMPLES / f"{example}.yaml").read_text()
    before = kernel_names(helper)
    with helper.client() as client:
        progress: list[dict] = []
        result = client.call("lab.apply", {"topology": text}, lambda m, p: progress.append(p))
        assert [s["command"] for s in result["steps"]] == plan_up(topology).commands()
        assert len(progress) == len(result["steps"])
        expected = expected_facts(kernel_state(topology))
        assert_kernel_matches(helper.facts(*expected["sysctls"]), expected, HOST_ONLY)
        again = apply(client, text)
        assert (again["changed"], again["steps"]) == (False, [])
        report = client.call("lab.destroy", {"lab": topology.name})
        assert report["skipped"] == []
    assert kernel_names(helper) == before


def test_an_edit_applies_as_a_small_diff(helper: RunningHelper) -> None:
    with helper.client() as client:
        apply(client, (EXAMPLES / "bridge-pitfall.yaml").read_text())
        fixed = (EXAMPLES / "bridge-fixed.yaml").read_text()
        planned = client.call("lab.plan", {"topology": fixed})
        assert planned["running"] is True
        result = apply(client, fixed)
        assert [s["command"] for s in result["steps"]] == [
            "ip -n hub addr del 10.77.0.1/24 dev p0",
            "ip -n hub addr add 10.77.0.1/24 dev br0",
        ]
        facts = helper.facts()
        assert "hub/br0/10.77.0.1/24" in facts["addresses"]
        assert not any(a.startswith("hub/p0/") for a in facts["addresses"])
        client.call("lab.destroy", {"lab": "bridge-pitfall"})


def test_a_foreign_namespace_is_refused_and_left_untouched(helper: RunningHelper) -> None:
    helper.sandbox.run("ip", "netns", "add", "a")  # made by "another tool"
    helper.sandbox.run("ip", "-n", "a", "link", "add", "mine", "type", "bridge")
    before = kernel_names(helper)
    with helper.client() as client, pytest.raises(RpcError) as exc:
        apply(client, (EXAMPLES / "bridge-fixed.yaml").read_text())
    assert exc.value.code == ErrorCode.NOT_OWNED
    assert 'namespace "a" already exists and was not made by this lab' in exc.value.message
    assert kernel_names(helper) == before
    assert "mine" in helper.sandbox.run("ip", "-n", "a", "-br", "link").stdout


def test_a_veth_moved_back_to_the_host_replaces_the_labs_own_host_end(
    helper: RunningHelper,
) -> None:
    """Apply may delete a host veth of the lab and make one of that name again (the far
    end moved back to the host: the veth lesson); a foreign device is still refused."""
    moved = load(EXAMPLES / "veth-host.yaml").topology
    lid = moved.link_ids()[0]
    moved.update_link(lid, endpoints=(Endpoint("host", "veth0"), Endpoint("host", "veth1")))
    with helper.client() as client:
        apply(client, (EXAMPLES / "veth-host.yaml").read_text())
        apply(client, dumps(moved))
        host = helper.sandbox.run("ip", "-br", "link").stdout
        assert "veth0@veth1" in host and "veth1@veth0" in host, host
        assert "veth1" not in helper.sandbox.run("ip", "-n", "netns1", "-br", "link").stdout
        client.call("lab.destroy", {"lab": "veth-host"})


def test_a_lab_naming_the_hosts_eth0_is_refused(helper: RunningHelper) -> None:
    topo = load(EXAMPLES / "veth-host.yaml").topology
    lid = topo.link_ids()[0]
    _, far = topo.link(lid).endpoints
    topo.update_link(lid, endpoints=(Endpoint("host", "eth0", ("10.1.1.1/24",)), far))
    eth0_before = helper.sandbox.run("ip", "-d", "addr", "show", "eth0").stdout
    with helper.client() as client, pytest.raises(RpcError) as exc:
        apply(client, dumps(topo))
    assert exc.value.code == ErrorCode.NOT_OWNED
    assert 'interface "eth0" already exists in the host namespace' in exc.value.message
    assert helper.sandbox.run("ip", "-d", "addr", "show", "eth0").stdout == eth0_before
    assert helper.sandbox.run("ip", "netns", "list").stdout == ""


def test_host_routes_must_use_the_labs_own_interfaces(helper: RunningHelper) -> None:
    from nstopo.model.types import Route

    topo = load(EXAMPLES / "veth-host.yaml").topology
    topo.update_node("host", routes=(Route("10.9.0.0/16", via="10.1.1.2"),))
    routes_before = helper.sandbox.run("ip", "route").stdout
    with helper.client() as client, pytest.raises(RpcError) as exc:
        apply(client, dumps(topo))
    assert "nstopo only adds host routes through the lab's own interfaces" in exc.value.message
    assert helper.sandbox.run("ip", "route").stdout == routes_before


def test_another_labs_namespace_is_refused(helper: RunningHelper) -> None:
    with helper.client() as client:
        apply(client, (EXAMPLES / "bridge-fixed.yaml").read_text())
        with pytest.raises(RpcError, match='namespace "hub" belongs to lab "bridge-pitfall"'):
            apply(client, (EXAMPLES / "tap-bridge.yaml").read_text())
        with pytest.raises(RpcError) as exc:
            client.call("lab.destroy", {"lab": "tap-bridge"})
        assert exc.value.code == ErrorCode.NO_SUCH_LAB
        assert helper.facts()["namespaces"] == ["a", "hub"]
        client.call("lab.destroy", {"lab": "bridge-pitfall"})


def test_a_step_failing_mid_apply_rolls_everything_back(helper: RunningHelper) -> None:
    topo = load(EXAMPLES / "container-bridge.yaml").topology
    # Passes validation, fails in the kernel after namespaces, veths and addresses exist.
    topo.update_node("router", sysctls={"net.ipv4.conf.nosuch.forwarding": 1})
    before = kernel_names(helper)
    with helper.client() as client:
        with pytest.raises(RpcError) as exc:
            apply(client, dumps(topo))
        assert exc.value.code == ErrorCode.STEP_FAILED
        assert "net.ipv4.conf.nosuch.forwarding" in exc.value.message
        assert exc.value.data["step"]["op"] == "sysctl.set"
        assert client.call("lab.status", {}) == []
    assert kernel_names(helper) == before


def test_a_failed_edit_rolls_back_to_the_running_lab(helper: RunningHelper) -> None:
    text = (EXAMPLES / "container-bridge.yaml").read_text()
    topo = load(EXAMPLES / "container-bridge.yaml").topology
    with helper.client() as client:
        apply(client, text)
        running = helper.facts("router/net.ipv4.ip_forward")
        topo.update_node("far", sysctls={"net.ipv4.conf.nosuch.rp_filter": 1})
        topo.update_node("c1", routes=())
        with pytest.raises(RpcError):
            apply(client, dumps(topo))
        assert helper.facts("router/net.ipv4.ip_forward") == running
        assert apply(client, text)["changed"] is False  # the registry kept the running lab
        client.call("lab.destroy", {"lab": "container-bridge"})


def test_kill_9_mid_apply_then_restart_then_destroy_leaves_nothing(
    helper: RunningHelper,
) -> None:
    before = kernel_names(helper)
    text = dumps(star(150, "big"))
    client = helper.client()
    started = threading.Event()

    def run() -> None:
        with contextlib.suppress(RpcError, OSError):
            client.call("lab.apply", {"topology": text}, lambda m, p: started.set())

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(30), "the apply never started"
    time.sleep(0.15)
    helper.kill9()
    worker.join(30)
    client.close()
    # Half-built on purpose: the last namespace may be an unmounted placeholder file.
    assert helper.sandbox.run("ip", "netns", "list").stdout, "the kill came too early"

    helper.start()
    with helper.client() as again:
        labs = [lab["lab"] for lab in again.call("lab.status", {})]
        assert labs == ["big"]
        again.call("lab.destroy", {"lab": "big"})
        assert again.call("lab.status", {}) == []
    assert kernel_names(helper) == before


def test_two_clients_apply_different_labs_at_once(helper: RunningHelper) -> None:
    texts = [(EXAMPLES / f"{n}.yaml").read_text() for n in ("container-bridge", "veth-namespaces")]
    errors: list[BaseException] = []

    def run(text: str) -> None:
        try:
            with helper.client() as client:
                assert apply(client, text)["changed"]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert helper.facts()["namespaces"] == [
        "c1",
        "c2",
        "far",
        "internet",
        "left",
        "right",
        "router",
    ]
    with helper.client() as client:
        assert sorted(lab["lab"] for lab in client.call("lab.status", {})) == [
            "container-bridge",
            "veth-namespaces",
        ]


def test_a_peer_outside_root_and_the_group_is_refused(helper: RunningHelper) -> None:
    import subprocess

    probe = (
        "import socket,sys; s=socket.socket(socket.AF_UNIX); "
        "s.connect(sys.argv[1]); print(s.makefile().readline().strip())"
    )
    as_nobody = {
        "user": "nobody",
        "group": "nogroup",
        "extra_groups": [],
        "capture_output": True,
        "text": True,
    }
    python = _python_for_nobody()
    denied = subprocess.run([python, "-c", probe, str(helper.socket)], **as_nobody)
    assert "PermissionError" in denied.stderr  # mode 0660: not even a connect
    helper.socket.chmod(0o666)  # even on a wrongly opened socket, SO_PEERCRED decides
    refused = subprocess.run([python, "-c", probe, str(helper.socket)], **as_nobody)
    reply = json.loads(refused.stdout)
    assert reply["error"]["code"] == ErrorCode.NOT_AUTHORIZED
    assert "is not root and not in group" in reply["error"]["message"]


def _python_for_nobody() -> str:
    """The probe needs only the standard library; the venv's interpreter may live under
    /root (pyenv), where nobody cannot execute it."""
    import shutil
    import sys

    for candidate in ("/usr/bin/python3", sys.executable):
        if shutil.which(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return sys.executable


def raw_exchange(path: Path, payload: bytes, replies: int) -> list[dict]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(30)
        sock.connect(str(path))
        sock.sendall(payload)
        reader = sock.makefile("rb")
        return [json.loads(reader.readline()) for _ in range(replies)]


def test_bad_messages_get_errors_and_the_helper_keeps_serving(helper: RunningHelper) -> None:
    hello = b'{"jsonrpc":"2.0","id":0,"method":"hello","params":{"protocol":[1]}}\n'
    bad = [
        b"{nope\n",
        b'{"jsonrpc":"2.0","id":1,"method":"lab.zap"}\n',
        b'{"jsonrpc":"2.0","id":2,"method":"lab.destroy","params":{"lab":5}}\n',
        b'{"jsonrpc":"2.0","id":3,"method":"lab.apply","params":{"topology":"nstopo: 1\\n"}}\n',
        b'{"x":"' + b"a" * (MAX_MESSAGE_BYTES + 5) + b'"}\n',
        b'{"jsonrpc":"2.0","id":4,"method":"helper.info"}\n',
    ]
    replies = raw_exchange(helper.socket, hello + b"".join(bad), 7)
    by_id = {r["id"]: r for r in replies}
    codes = sorted(r["error"]["code"] for r in replies if "error" in r)
    assert codes == sorted(
        [
            ErrorCode.PARSE_ERROR,
            ErrorCode.METHOD_NOT_FOUND,
            ErrorCode.INVALID_PARAMS,
            ErrorCode.TOPOLOGY_INVALID,
            ErrorCode.MESSAGE_TOO_LARGE,
        ]
    )
    assert "lab.zap" in by_id[1]["error"]["message"]
    assert by_id[4]["result"]["pid"] == helper.pid


def test_fuzz_thousands_of_random_messages(helper: RunningHelper) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(
        ["hello", "lab.apply", "lab.plan", "lab.destroy", "lab.status", "helper.info", "x", ""]
    )
    values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda v: (
            st.lists(v, max_size=3)
            | st.dictionaries(
                st.sampled_from(["lab", "topology", "force", "protocol", "z"]), v, max_size=3
            )
        ),
        max_leaves=6,
    )
    message = st.one_of(
        st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" ")),
        st.fixed_dictionaries(
            {"jsonrpc": st.just("2.0"), "id": st.integers(0, 9), "method": words, "params": values}
        ).map(lambda d: json.dumps(d).encode()),
    )
    sent = [0]

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(message, min_size=60, max_size=60))
    def check(batch: list[bytes]) -> None:
        hello = b'{"jsonrpc":"2.0","id":"h","method":"hello","params":{"protocol":[1]}}\n'
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(30)
            sock.connect(str(helper.socket))
            sock.sendall(hello + b"\n".join(batch) + b"\n")
            sock.shutdown(socket.SHUT_WR)
            for line in sock.makefile("rb"):
                reply = json.loads(line)
                assert "result" in reply or "error" in reply or "method" in reply
        sent[0] += len(batch)

    check()
    assert sent[0] >= 2000
    with helper.client() as client:
        assert client.call("helper.info")["pid"] == helper.pid
        assert client.call("lab.status", {}) == []  # nothing random got built


def test_a_client_that_stops_reading_does_not_grow_the_helpers_memory(
    helper: RunningHelper,
) -> None:
    with helper.client() as client:
        client.call("helper.info")
    baseline = helper.rss_kib()
    request = b'{"jsonrpc":"2.0","id":1,"method":"helper.info"}\n'
    hello = b'{"jsonrpc":"2.0","id":0,"method":"hello","params":{"protocol":[1]}}\n'
    with socket.socket(socket.AF_UNIX) as stuck:
        stuck.connect(str(helper.socket))
        stuck.sendall(hello)
        stuck.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sent < 200_000:
            try:
                stuck.send(request * 64)
                sent += 64
            except BlockingIOError:
                time.sleep(0.2)
                try:
                    stuck.send(request)
                except BlockingIOError:
                    break  # the helper stopped reading from us: backpressure works
        grown = helper.rss_kib() - baseline
        with helper.client() as other:  # still serving everyone else
            assert other.call("helper.info")["pid"] == helper.pid
    assert sent > 1000
    # The budgets hold 4 MiB of answers and at most 1,024 requests in flight; as Python
    # objects (and the allocator's arenas) that is a few times the payload. Without
    # backpressure the 200,000 requests sent would cost hundreds of MB.
    assert grown < 48_000, f"helper grew by {grown} KiB for a client that does not read"


def test_namespace_with_a_process_inside_is_reported_and_force_ends_it(
    helper: RunningHelper,
) -> None:
    topo = load(EXAMPLES / "veth-namespaces.yaml").topology
    with helper.client() as client:
        apply(client, dumps(topo))
        sleeper = helper.sandbox.popen("ip", "netns", "exec", "left", "sleep", "300")
        time.sleep(0.3)
        report = client.call("lab.destroy", {"lab": topo.name, "force": True})
        assert [p["namespace"] for p in report["processes"]] == ["left"]
        assert report["processes"][0]["pids"] == [sleeper.pid]  # nsenter and ip netns exec exec
        assert sleeper.wait(10) != 0  # ended by --force
    assert helper.facts()["namespaces"] == []


def test_host_node_lab_keeps_the_hosts_addresses(helper: RunningHelper) -> None:
    topo = load(EXAMPLES / "veth-host.yaml").topology
    assert isinstance(topo.node("host"), HostNode) and isinstance(topo.node("netns1"), NetnsNode)
    addr_before = helper.sandbox.run("ip", "-br", "addr").stdout
    with helper.client() as client:
        apply(client, dumps(topo))
        facts = helper.facts()
        assert "/veth0/10.1.1.1/24" in facts["addresses"]
        assert facts["devices"]["/eth0"]["up"] is True
        client.call("lab.destroy", {"lab": topo.name})
    assert helper.sandbox.run("ip", "-br", "addr").stdout == addr_before


def test_cli_apply_dry_run_status_and_destroy(helper: RunningHelper) -> None:
    import subprocess

    from helper_process import NSTOPO

    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    path = str(EXAMPLES / "bridge-fixed.yaml")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([NSTOPO, *args], capture_output=True, text=True, env=env)

    dry = cli("apply", path, "--dry-run")
    assert dry.returncode == 0
    assert (
        dry.stdout.splitlines() == plan_up(load(EXAMPLES / "bridge-fixed.yaml").topology).commands()
    )
    assert helper.sandbox.run("ip", "netns", "list").stdout == ""  # a dry run changes nothing
    assert cli("apply", path).stdout == "lab bridge-pitfall: applied 12 steps\n"
    assert cli("apply", path).stdout == "lab bridge-pitfall: already up to date, nothing to do\n"
    status = cli("status").stdout.splitlines()
    assert status[0] == "lab bridge-pitfall"
    assert any(line.split()[:2] == ["netns", "hub"] and "br0:UP" in line for line in status)
    as_json = json.loads(cli("status", "--json").stdout)
    assert [ns["name"] for ns in as_json[0]["namespaces"]] == ["hub", "a"]
    assert cli("plan", path).stdout == ""  # running and identical: nothing to do
    gone = cli("destroy", path)
    assert gone.stdout == "lab bridge-pitfall: removed 2 objects\n"
    assert cli("status").stdout == "no labs are running\n"
    missing = cli("destroy", "nosuch")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
