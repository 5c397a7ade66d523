"""The helper under attack and under faults (issue 19): each test is named after a
finding, and runs against a real helper in a sandbox."""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import time
from pathlib import Path

import pytest
from helper_process import NSTOPO, RunningHelper
from nstopo.backend import jsonrpc as rpc
from nstopo.backend.client import HelperError
from nstopo.model.types import Endpoint, Route
from nstopo.model.yamlfile import dumps
from nstopo.resources import EXAMPLES
from sandbox import needs_root

pytestmark = needs_root
HELLO = b'{"jsonrpc":"2.0","id":"h","method":"hello","params":{"protocol":[1]}}\n'


def request(msg_id: int, method: str, params: object) -> bytes:
    return rpc.encode({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})


def ask(path: Path, payload: bytes, timeout: float = 30) -> dict:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(HELLO + payload)
        reader = sock.makefile("rb")
        assert "result" in json.loads(reader.readline())  # hello
        while True:
            reply = json.loads(reader.readline())
            if "method" not in reply:
                return reply


def deep_yaml(depth: int) -> str:
    return "nstopo: 1\nname: deep\nnodes: " + "[" * depth + "]" * depth + "\n"


def test_deep_nesting_is_refused_before_parsing(helper: RunningHelper, tmp_path: Path) -> None:
    started = time.monotonic()
    reply = ask(helper.socket, request(1, "lab.plan", {"topology": deep_yaml(33_000)}))
    assert reply["error"]["code"] == rpc.TOPOLOGY_INVALID
    assert "more than 64 levels deep" in reply["error"]["message"]
    deep_json = b'{"jsonrpc":"2.0","id":2,"method":"lab.plan","params":{"topology":'
    deep_json += b'{"n":' * 33_000 + b"1" + b"}" * 33_000 + b"}}\n"
    reply = ask(helper.socket, deep_json)
    assert reply["error"]["code"] == rpc.INVALID_REQUEST and reply["id"] is None
    assert "nests 33002 levels deep; at most 64" in reply["error"]["message"]
    assert time.monotonic() - started < 5  # no seconds of CPU per request
    with helper.client() as client:  # still serving
        assert client.call("helper.info")["pid"] == helper.pid
    # The command line reads the same file first, and says so in one line.
    path = tmp_path / "deep.yaml"
    path.write_text(deep_yaml(33_000))
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    for command in ("validate", "apply"):
        done = subprocess.run([NSTOPO, command, str(path)], capture_output=True, text=True,
                              env=env, timeout=60)  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert f"{path}:3:" in done.stderr and "more than 64 levels deep" in done.stderr


def test_fuzz_nesting_and_size_of_every_input_path(helper: RunningHelper) -> None:
    """Property: whatever the depth (0..40,000), shape and size of a request, sent as
    YAML text or as a JSON document to any topology method or as params, the helper
    answers it once, well-formed, in bounded time and memory, and keeps serving."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    with helper.client() as client:
        client.call("helper.info")
    baseline = helper.rss_kib()
    openers = st.sampled_from(["[", "{a: ", "- ", '{"a": '])
    shapes = st.tuples(
        st.sampled_from(["yaml", "json-topology", "json-params"]),
        st.sampled_from(["lab.plan", "lab.apply", "lab.status", "lab.destroy"]),
        st.integers(0, 40_000) | st.integers(60, 70),
        openers,
        st.integers(0, 300_000),  # padding: size
    )
    answered = [0]

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(shapes)
    def check(shape: tuple[str, str, int, str, int]) -> None:
        path, method, depth, opener, padding = shape
        if path == "yaml":
            if opener == "- ":
                body = "\n" + "".join("  " * i + "- \n" for i in range(min(depth, 700)))
            else:
                close = "]" if opener == "[" else "}"
                body = opener * depth + "1" + close * depth
            text = "nstopo: 1\nname: f\n# " + "x" * padding + "\nnodes: " + body + "\n"
            line = request(7, method, {"topology": text})
        else:
            inner = b'{"a":' * depth + b'"' + b"x" * padding + b'"' + b"}" * depth
            key = b'"topology":' if path == "json-topology" else b'"lab":'
            line = b'{"jsonrpc":"2.0","id":7,"method":"' + method.encode()
            line += b'","params":{' + key + inner + b"}}\n"
        started = time.monotonic()
        reply = ask(helper.socket, line, timeout=60)
        assert time.monotonic() - started < 20
        assert reply.get("jsonrpc") == "2.0" and ("error" in reply or "result" in reply)
        parsed = path != "yaml" or method in ("lab.plan", "lab.apply")  # else: a bad param
        if depth > 70 and parsed and len(line) < rpc.MAX_MESSAGE_BYTES:
            assert "error" in reply and "levels deep" in reply["error"]["message"]
        answered[0] += 1

    check()
    assert answered[0] >= 60
    with helper.client() as client:
        assert client.call("helper.info")["pid"] == helper.pid
        assert client.call("lab.status", {}) == []
    assert helper.rss_kib() - baseline < 60_000


# -- 2. the host namespace is foreign territory -----------------------------------------


def veth_host(**host: object) -> str:
    from nstopo.model.yamlfile import load

    topo = load(EXAMPLES / "veth-host.yaml").topology
    if "routes" in host:
        topo.update_node("host", routes=tuple(Route(**r) for r in host["routes"]))
    if "addresses" in host:
        lid = topo.link_ids()[0]
        near, far = topo.link(lid).endpoints
        near = Endpoint(near.node, near.interface, tuple(host["addresses"]))
        topo.update_link(lid, endpoints=(near, far))
    return dumps(topo)


def host_setup(helper: RunningHelper) -> None:
    """The sandbox's host: an address and a default route on its stand-in uplink."""
    helper.sandbox.run("ip", "addr", "add", "10.0.2.15/24", "dev", "eth0")
    helper.sandbox.run("ip", "route", "add", "default", "via", "10.0.2.2")


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ({"routes": [{"to": "0.0.0.0/1", "via": "10.1.1.2"}]}, "wider than /8"),
        ({"routes": [{"to": "128.0.0.0/1", "dev": "veth0"}]}, "wider than /8"),
        ({"routes": [{"to": "default", "via": "10.1.1.2"}]}, "default route"),
        ({"routes": [{"to": "10.0.2.0/25", "via": "10.1.1.2"}]}, "overlaps the host's"),
        ({"addresses": ["10.0.2.15/24"]}, "overlaps the host's address 10.0.2.15/24"),
        ({"addresses": ["10.0.2.2/32"]}, "overlaps the host's address 10.0.2.15/24"),
        ({"addresses": ["127.0.0.2/32"]}, "overlaps the host's address 127.0.0.1/8"),
    ],
)
def test_a_host_route_or_address_overlapping_the_hosts_own_is_refused(
    helper: RunningHelper, host: dict, words: str
) -> None:
    host_setup(helper)
    if "routes" in host:  # a route needs dev: through the lab's own veth
        host["routes"] = [{"dev": "veth0", **r} for r in host["routes"]]
    before = (helper.sandbox.run("ip", "route").stdout, helper.sandbox.run("ip", "addr").stdout)
    with helper.client() as client, pytest.raises(HelperError) as exc:
        client.call("lab.apply", {"topology": veth_host(**host)})
    assert exc.value.code == rpc.NOT_OWNED and words in exc.value.message
    after = (helper.sandbox.run("ip", "route").stdout, helper.sandbox.run("ip", "addr").stdout)
    assert after == before and helper.sandbox.run("ip", "netns", "list").stdout == ""


def test_a_host_route_to_a_subnet_the_host_does_not_use_is_accepted(
    helper: RunningHelper,
) -> None:
    host_setup(helper)
    text = veth_host(routes=[{"to": "10.9.0.0/16", "via": "10.1.1.2", "dev": "veth0"}])
    with helper.client() as client:
        client.call("lab.apply", {"topology": text})
        assert "10.9.0.0/16 via 10.1.1.2 dev veth0" in helper.sandbox.run("ip", "route").stdout
        assert "default via 10.0.2.2 dev eth0" in helper.sandbox.run("ip", "route").stdout
        client.call("lab.destroy", {"lab": "veth-host"})


def test_a_ping_from_the_host_goes_only_to_the_labs_addresses(helper: RunningHelper) -> None:
    host_setup(helper)
    with helper.client() as client:
        client.call("lab.apply", {"topology": veth_host()})
        params = {"lab": "veth-host", "source": "host", "count": 1, "interval": 0.2}
        with pytest.raises(HelperError) as exc:
            client.call("ping.start", {**params, "target": "10.0.2.2"})
        assert exc.value.code == rpc.NOT_OWNED
        assert "pings only the lab's own addresses" in exc.value.message
        assert client.call("ping.start", {**params, "target": "10.1.1.2"})["received"] == 1
        client.call("lab.destroy", {"lab": "veth-host"})


def test_probes_check_an_interfaces_tag_not_its_name(helper: RunningHelper) -> None:
    """An administrator's device that took the name of a lab interface is not the lab's."""
    with helper.client() as client:
        client.call("lab.apply", {"topology": (EXAMPLES / "bridge-fixed.yaml").read_text()})
        # The lab's bridge replaced by one of the same name that nstopo did not make.
        helper.sandbox.run("ip", "-n", "hub", "link", "del", "br0")
        helper.sandbox.run("ip", "-n", "hub", "link", "add", "br0", "type", "bridge")
        calls = [
            ("capture.start", {"lab": "bridge-pitfall", "node": "br0"}),
            ("bridge.fdb", {"lab": "bridge-pitfall", "node": "br0"}),
            ("capture.start", {"lab": "bridge-pitfall", "node": "hub", "interface": "br0"}),
        ]
        for method, params in calls:
            with pytest.raises(HelperError) as exc:
                client.call(method, params)
            assert exc.value.code == rpc.NOT_OWNED, method
            assert 'interface "br0" in hub is not tagged as lab' in exc.value.message
        helper.sandbox.run("ip", "-n", "a", "link", "set", "eth0", "alias", "someone-else")
        with pytest.raises(HelperError) as exc:
            client.call("ping.start", {"lab": "bridge-pitfall", "source": "a",
                                       "target": "10.77.0.1", "interface": "eth0"})  # fmt: skip
        assert exc.value.code == rpc.NOT_OWNED
        client.call("lab.destroy", {"lab": "bridge-pitfall"})


# -- 3. sessions, flow control, events -----------------------------------------------


def fds(helper: RunningHelper) -> int:
    return len(os.listdir(f"/proc/{helper.pid}/fd"))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(helper: RunningHelper, seconds: float = 2.0) -> float:
    before = cpu_seconds(helper.pid)
    time.sleep(seconds)
    return (cpu_seconds(helper.pid) - before) / seconds


def stuck_client(helper: RunningHelper, *calls: bytes) -> socket.socket:
    """A client that sends its requests and then never reads."""
    sock = socket.socket(socket.AF_UNIX)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(str(helper.socket))
    sock.sendall(HELLO + b"".join(calls))
    return sock


def apply_star(helper: RunningHelper, n: int, name: str = "star") -> None:
    from labs import star

    with helper.client() as client:
        client.call("lab.apply", {"topology": dumps(star(n, name))})


def test_a_session_whose_writer_is_stuck_ends_with_its_connection(helper: RunningHelper) -> None:
    """Five clients subscribe, stream counters, then flood requests without reading
    until the helper stops reading them, and hang up: nothing of theirs runs on."""
    apply_star(helper, 20)
    baseline_fds = fds(helper)
    streams = request(1, "events.subscribe", {"lab": "star"}) + request(
        2, "counters.subscribe", {"lab": "star", "interval": 0.05}
    )
    flood = request(3, "lab.status", {}) * 3000
    clients = []
    for _ in range(5):
        sock = stuck_client(helper, streams)
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            for _ in range(200):
                sock.send(flood)
        clients.append(sock)
    time.sleep(2)  # the writers are now stuck in drain(), the readers paused
    assert fds(helper) > baseline_fds
    for sock in clients:
        sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and fds(helper) > baseline_fds:
        time.sleep(0.2)
    assert fds(helper) == baseline_fds, "watchers or counters outlived their connection"
    time.sleep(1)  # cancelled requests finish their current step
    assert idle_cpu(helper) < 0.05
    assert "Traceback" not in helper.log.read_text()


def test_a_client_that_never_reads_is_disconnected_after_the_documented_threshold(
    helper: RunningHelper,
) -> None:
    apply_star(helper, 10)
    sock = stuck_client(helper, request(1, "events.subscribe", {"lab": "star"}))
    time.sleep(0.5)
    toggles = "".join(f"link set p{i % 10} {('down', 'up')[i // 10 % 2]}\n" for i in range(30_000))
    deadline = time.monotonic() + 60
    disconnected = False
    while time.monotonic() < deadline and not disconnected:
        batch = helper.sandbox.command("ip", "-n", "hub", "-batch", "-")
        subprocess.run(batch, input=toggles, text=True, check=True, timeout=60)
        disconnected = flow_peer_closed(sock)
    sock.close()
    assert disconnected, "the helper kept a client that dropped over 10,000 notifications"
    assert "client stopped reading" in helper.log.read_text()
    with helper.client() as client:
        assert client.call("helper.info")["pid"] == helper.pid


def flow_peer_closed(sock: socket.socket) -> bool:
    """The helper closed this connection (seen without reading what it sent)."""
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | 0x2000)  # POLLRDHUP
    return any(event & (0x2000 | select.POLLHUP) for _, event in poller.poll(0))


def test_a_slow_clients_memory_is_bounded_in_bytes_not_messages(helper: RunningHelper) -> None:
    with helper.client() as client:
        client.call("helper.info")
    baseline = helper.rss_kib()
    big = "nstopo: 1\nname: big\n# " + "x" * (1_000_000 - 40) + "\nnodes: {}\n"
    line = request(5, "lab.plan", {"topology": big})
    assert len(line) < rpc.MAX_MESSAGE_BYTES
    sock = stuck_client(helper)
    sock.setblocking(False)
    sent = 0
    deadline = time.monotonic() + 30
    pending = b""
    while time.monotonic() < deadline and sent < 150:
        pending = pending or line
        try:
            pending = pending[sock.send(pending) :]
        except BlockingIOError:
            time.sleep(0.1)
            continue
        if not pending:
            sent += 1
    time.sleep(2)
    grown = helper.rss_kib() - baseline
    sock.close()
    assert grown < 80_000, f"helper grew by {grown} KiB for {sent} requests of 1 MB"
    with helper.client() as client:  # still serving
        assert client.call("helper.info")["pid"] == helper.pid


def test_a_subscribers_initial_state_arrives_whole(helper: RunningHelper) -> None:
    """1,600 interfaces and their addresses: more resync events than the outbox's
    1,024 places, sent whole though the subscriber reads slowly."""
    apply_star(helper, 800)

    def count(what: str) -> int:
        script = f"for n in $(ip netns list | cut -d' ' -f1); do ip -n $n -o {what}; done"
        return len(helper.sandbox.run("bash", "-c", script).stdout.splitlines())

    with helper.client() as client:
        got: list[dict] = []
        client.call("events.subscribe", {"lab": "star"}, lambda m, p: got.append(p))
        time.sleep(3)  # not reading: the burst waits in the helper
        client._sock.settimeout(2)
        with contextlib.suppress(TimeoutError, OSError):
            client.listen(lambda m, p: got.append(p))
    links = [p for p in got if "kind" in p and p["resync"]]
    assert len(links) == count("link") > 1600
    assert len([p for p in got if "address" in p and p["resync"]]) == count("addr") > 2400
