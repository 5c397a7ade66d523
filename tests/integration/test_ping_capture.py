"""The study notes' experiments, judged by ping and capture through a real helper."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import dpkt
import pytest
from helper_process import NSTOPO, Listener, RunningHelper
from nstopo.backend.client import HelperClient
from nstopo.model.yamlfile import dumps, load
from nstopo.protocol.errors import ErrorCode, RpcError
from nstopo.resources import EXAMPLES
from sandbox import needs_root

pytestmark = needs_root


def apply(helper: RunningHelper, topology_or_name: Any) -> None:
    text = (
        (EXAMPLES / f"{topology_or_name}.yaml").read_text()
        if isinstance(topology_or_name, str)
        else dumps(topology_or_name)
    )
    with helper.client() as client:
        client.call("lab.apply", {"topology": text})


def ping(helper: RunningHelper, lab: str, source: str, target: str, **extra: Any) -> dict:
    params = {
        "lab": lab,
        "source": source,
        "target": target,
        "count": 3,
        "interval": 0.05,
        "timeout": 1.0,
        **extra,
    }
    events: list[tuple[str, dict]] = []
    with helper.client() as client:
        result = client.call("ping.start", params, lambda m, p: events.append((m, p)))
    result["events"] = events
    return result


def capture(
    helper: RunningHelper,
    lab: str,
    node: str,
    interface: str | None = None,
    filter: str = "",
    raw: bool = False,
) -> Listener:
    return Listener(
        helper,
        "capture.start",
        {"lab": lab, "node": node, "interface": interface, "filter": filter, "raw": raw},
    )


def summaries(listener: Listener) -> list[str]:
    return [p["summary"] for _, m, p in listener.events if m == "capture.packet"]


def test_loopback_down_is_network_unreachable_until_it_is_up(helper: RunningHelper) -> None:
    apply(helper, "loopback")
    with pytest.raises(RpcError) as exc:
        ping(helper, "loopback", "ns1", "127.0.0.1")
    assert exc.value.code == ErrorCode.PING_FAILED
    assert exc.value.message == "connect: Network is unreachable"
    topo = load(EXAMPLES / "loopback.yaml").topology
    topo.update_node("ns1", loopback="up")
    apply(helper, topo)
    assert ping(helper, "loopback", "ns1", "127.0.0.1")["received"] == 3


def test_veth_between_two_namespaces_both_ways(helper: RunningHelper) -> None:
    apply(helper, "veth-namespaces")
    there = ping(helper, "veth-namespaces", "left", "right")
    back = ping(helper, "veth-namespaces", "right", "left")
    assert (there["address"], there["received"]) == ("10.10.0.2", 3)
    assert (back["address"], back["received"]) == ("10.10.0.1", 3)
    replies = [p for m, p in there["events"] if m == "ping.reply"]
    assert [r["seq"] for r in replies] == [1, 2, 3] and all(r["ttl"] == 64 for r in replies)
    assert all(r["rtt_ms"] > 0 for r in replies) and there["min"] <= there["avg"] <= there["max"]


def test_ipv6_ping(helper: RunningHelper) -> None:
    apply(helper, "veth-namespaces")
    result = ping(helper, "veth-namespaces", "left", "fd00:10::2")
    assert result["received"] == 3
    assert {p["ttl"] for m, p in result["events"] if m == "ping.reply"} == {64}


def test_veth_between_the_host_and_a_namespace_both_ways(helper: RunningHelper) -> None:
    apply(helper, "veth-host")
    assert ping(helper, "veth-host", "netns1", "host")["received"] == 3
    result = ping(helper, "veth-host", "host", "netns1")
    assert (result["address"], result["received"]) == ("10.1.1.2", 3)


def test_the_bridge_pitfall_and_its_fix(helper: RunningHelper) -> None:
    apply(helper, "bridge-pitfall")
    on_port = capture(helper, "bridge-pitfall", "hub", "p0", "arp")
    on_bridge = capture(helper, "bridge-pitfall", "br0", None, "arp")
    try:
        failed = ping(helper, "bridge-pitfall", "hub", "a", interface="p0", timeout=1.5)
        assert failed["received"] == 0 and failed["loss"] == 100.0
        on_port.wait_for(lambda m, p: m == "capture.packet" and "Reply" in p["summary"])
        on_bridge.wait_for(lambda m, p: m == "capture.packet" and "Reply" in p["summary"])
        time.sleep(0.2)
        port, bridge = summaries(on_port), summaries(on_bridge)
        assert any(s.startswith("ARP, Request who-has 10.77.0.2 tell 10.77.0.1") for s in port)
        assert any(s.startswith("ARP, Reply 10.77.0.2 is-at") for s in port)
        assert any(s.startswith("ARP, Reply 10.77.0.2 is-at") for s in bridge)
        assert not any("Request" in s for s in bridge), bridge  # the seed's observation
    finally:
        on_port.close()
        on_bridge.close()
    apply(helper, "bridge-fixed")
    assert ping(helper, "bridge-pitfall", "hub", "a")["received"] == 3
    assert ping(helper, "bridge-pitfall", "a", "hub")["received"] == 3


def test_container_style_routing_needs_forwarding(helper: RunningHelper) -> None:
    apply(helper, "container-bridge")
    switched = ping(helper, "container-bridge", "c1", "c2")
    routed = ping(helper, "container-bridge", "c1", "far")
    assert switched["received"] == 3
    assert (routed["address"], routed["received"]) == ("10.80.2.2", 3)
    assert "route to default via 10.80.1.1" in routed["reason"]
    assert {p["ttl"] for m, p in routed["events"] if m == "ping.reply"} == {63}  # one hop
    topo = load(EXAMPLES / "container-bridge.yaml").topology
    topo.update_node("router", sysctls={"net.ipv4.ip_forward": 0})
    apply(helper, topo)
    assert ping(helper, "container-bridge", "c1", "far")["received"] == 0
    assert ping(helper, "container-bridge", "c1", "c2")["received"] == 3


def test_capture_filters_select_what_they_should(helper: RunningHelper) -> None:
    apply(helper, "veth-namespaces")
    icmp = capture(helper, "veth-namespaces", "right", "eth0", "icmp")
    arp = capture(helper, "veth-namespaces", "right", "eth0", "arp")
    try:
        helper.sandbox.run("ip", "-n", "left", "neigh", "flush", "all")
        ping(helper, "veth-namespaces", "left", "right")
        icmp.wait_for(lambda m, p: m == "capture.packet" and "echo reply" in p["summary"])
        arp.wait_for(lambda m, p: m == "capture.packet")
        time.sleep(0.2)
        assert {p["protocol"] for _, m, p in icmp.events if m == "capture.packet"} == {"icmp"}
        assert {p["protocol"] for _, m, p in arp.events if m == "capture.packet"} == {"arp"}
        directions = {p["direction"] for _, m, p in icmp.events if m == "capture.packet"}
        assert directions == {"in", "out"}
    finally:
        icmp.close()
        arp.close()


def test_the_pcap_holds_the_streamed_packets(helper: RunningHelper, tmp_path: Path) -> None:
    apply(helper, "veth-namespaces")
    target = tmp_path / "cap.pcap"
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    proc = subprocess.Popen(
        [NSTOPO, "capture", "veth-namespaces", "right:eth0", "-c", "6", "-w", str(target), "icmp"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    assert "listening on eth0 in right" in proc.stderr.readline()  # then ping
    ping(helper, "veth-namespaces", "left", "right")
    out, rest = proc.communicate(timeout=20)
    err = rest
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 6 and "6 packets captured" in err
    with open(target, "rb") as pcap:
        frames = [frame for _, frame in dpkt.pcap.Reader(pcap)]
    assert len(frames) == 6
    kinds = [dpkt.ethernet.Ethernet(f).data.data.type for f in frames]
    assert kinds == [8, 0] * 3  # request, reply, three times
    assert all(("echo request" in line) == (k == 8) for line, k in zip(lines, kinds, strict=True))


def test_a_capture_on_an_interface_that_is_not_the_labs_is_refused(helper: RunningHelper) -> None:
    apply(helper, "veth-host")
    with helper.client() as client:
        for node, interface in (("host", "eth0"), ("netns1", "eth9")):
            with pytest.raises(RpcError) as exc:
                client.call(
                    "capture.start", {"lab": "veth-host", "node": node, "interface": interface}
                )
            assert exc.value.code == ErrorCode.NOT_OWNED
            assert "nstopo captures only on the lab's own interfaces" in exc.value.message


def test_a_client_gone_mid_capture_ends_it_and_frees_its_socket(helper: RunningHelper) -> None:
    apply(helper, "veth-namespaces")

    def fds() -> int:
        return len(os.listdir(f"/proc/{helper.pid}/fd"))

    client = HelperClient(str(helper.socket), timeout=10)
    time.sleep(0.3)  # let earlier connections finish closing
    connected = fds()
    started = client.call(
        "capture.start",
        {"lab": "veth-namespaces", "node": "left", "interface": "eth0", "raw": True},
    )
    assert started["capture"] >= 1
    assert fds() == connected + 1  # the packet socket
    client.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and fds() > connected - 1:
        time.sleep(0.05)
    assert fds() == connected - 1  # the connection and the capture's socket are both gone
    with helper.client() as again:
        assert again.call("helper.info")["pid"] == helper.pid


def test_an_address_nobody_has_is_destination_host_unreachable(helper: RunningHelper) -> None:
    apply(helper, "veth-namespaces")
    # ARP gives up after its probes (~3 s); the kernel then reports host unreachable.
    result = ping(helper, "veth-namespaces", "left", "10.10.0.99", count=1, timeout=5.0)
    errors = [p for m, p in result["events"] if m == "ping.error"]
    assert result["received"] == 0 and errors
    assert errors[0]["message"] == "Destination Host Unreachable"
    assert errors[0]["from"] == "10.10.0.1" and errors[0]["seq"] == 1


def test_cli_ping_prints_like_ping_and_exits_by_replies(helper: RunningHelper) -> None:
    apply(helper, "veth-namespaces")
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [NSTOPO, "ping", "veth-namespaces", *args], capture_output=True, text=True, env=env
        )

    ok = cli("left", "right", "-c", "2", "-i", "0.1")
    assert ok.returncode == 0
    lines = ok.stdout.splitlines()
    assert lines[0].startswith("PING right (10.10.0.2) from left: 56 data bytes")
    assert lines[1].startswith("64 bytes from 10.10.0.2: icmp_seq=1 ttl=64 time=")
    assert "2 packets transmitted, 2 received, 0% packet loss" in ok.stdout
    assert "rtt min/avg/max/mdev = " in ok.stdout
    lost = cli("left", "10.20.0.1", "-c", "1", "-W", "0.3")  # no route at all: as iputils, 2
    assert lost.returncode == 2
    assert lost.stderr == "nstopo: ping: connect: Network is unreachable\n"
    wrong = cli("nobody", "right")
    assert wrong.returncode == 2 and 'has no node "nobody"' in wrong.stderr


def test_concurrent_pings_are_told_apart_by_their_tag(helper: RunningHelper) -> None:
    apply(helper, "veth-namespaces")
    with helper.client() as client:
        client.send("ping.start", {"lab": "veth-namespaces", "source": "left",
                                   "target": "right", "count": 2, "interval": 0.05,
                                   "tag": "one"})  # fmt: skip
        client.send("ping.start", {"lab": "veth-namespaces", "source": "right",
                                   "target": "left", "count": 3, "interval": 0.05,
                                   "tag": "two"})  # fmt: skip
        replies: dict[str, list[dict]] = {"one": [], "two": []}

        def keep(method: str, params: Any) -> None:
            if method == "ping.reply":
                replies[params["tag"]].append(params)

        # Both runs end with a result; read until both arrived.
        while len(replies["one"]) < 2 or len(replies["two"]) < 3:
            client.call("helper.info", None, keep)
    assert [r["seq"] for r in replies["one"]] == [1, 2]
    assert [r["seq"] for r in replies["two"]] == [1, 2, 3]
    assert {r["from"] for r in replies["one"]} != {r["from"] for r in replies["two"]}


def test_a_bridges_forwarding_database_names_the_port_behind_each_mac(
    helper: RunningHelper,
) -> None:
    apply(helper, "bridge-fixed")
    ping(helper, "bridge-pitfall", "a", "hub")  # the bridge learns a's MAC behind p0
    a_mac = helper.facts()["devices"]["a/eth0"]["mac"]
    with helper.client() as client:
        fdb = client.call("bridge.fdb", {"lab": "bridge-pitfall", "node": "br0"})
        with pytest.raises(RpcError) as refused:
            client.call("bridge.fdb", {"lab": "bridge-pitfall", "node": "a"})
    learned = [e for e in fdb["entries"] if not e["local"]]
    assert {"mac": a_mac, "port": "p0"}.items() <= next(
        e for e in learned if e["mac"] == a_mac
    ).items()
    assert all(e["port"] in ("p0", "br0") for e in fdb["entries"])
    assert any(e["local"] for e in fdb["entries"])  # the bridge's own addresses
    assert refused.value.message == '"a" is not a bridge'


def test_a_running_labs_topology_can_be_read_back(helper: RunningHelper) -> None:
    apply(helper, "bridge-fixed")
    with helper.client() as client:
        got = client.call("lab.topology", {"lab": "bridge-pitfall"})
        with pytest.raises(RpcError) as missing:
            client.call("lab.topology", {"lab": "nothing-here"})
    expected = load(EXAMPLES / "bridge-fixed.yaml").topology
    from nstopo.model.schema import topology_from_document

    assert topology_from_document(got["topology"]) == expected
    assert missing.value.code == ErrorCode.NO_SUCH_LAB
