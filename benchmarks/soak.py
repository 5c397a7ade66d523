"""Soak: the helper under a big lab and clients that never read, with the default
1,024 soft fd limit the issue's helper failed under.

1. A 2,000-namespace lab (four bridges of 500 ports in a hub) applied and destroyed;
   the helper's fds are sampled throughout (idle it must hold no fd per namespace).
2. 50 subscribers to a 20-namespace lab that never read, while `ip -batch` toggles
   bridge ports for about 1,000 kernel events a second, for 30 s; then they hang up.
   Throughout, a normal client calls `lab.status` every 20 ms: its latency.
3. Afterwards: RSS, fds and CPU against the idle figures from before phase 2.

Needs root; everything is built in a throw-away sandbox (tests/sandbox.py).

    sudo .venv/bin/python benchmarks/soak.py [NAMESPACES] [SUBSCRIBERS] [SECONDS] [EVENTS/S]
                                              (2000, 50, 30, 1000)
"""

from __future__ import annotations

import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from helper_process import Listener, RunningHelper, helper_in_sandbox
from labs import star
from nstopo.model.schema import to_document
from nstopo.model.topology import Topology
from nstopo.model.types import BridgeNode, Endpoint, Link, NetnsNode

HELLO = b'{"jsonrpc":"2.0","id":0,"method":"hello","params":{"protocol":[1]}}\n'


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(pid: int, seconds: float) -> float:
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


def idle_figures(helper: RunningHelper) -> dict[str, float]:
    time.sleep(1)
    return {
        "rss_mib": helper.rss_kib() / 1024,
        "fds": fds(helper.pid),
        "cpu_pct": 100 * cpu_share(helper.pid, 3),
    }


class FdSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            try:
                self.peak = max(self.peak, fds(self.pid))
            except FileNotFoundError:
                return
            time.sleep(0.02)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def big_lab(n: int, per_bridge: int = 500) -> Topology:
    """N namespaces, each with a veth to one of several bridges in a hub namespace (a
    Linux bridge takes at most 1,024 ports)."""
    topo = Topology("soak-big")
    topo.add_node("hub", NetnsNode())
    for b in range((n + per_bridge - 1) // per_bridge):
        topo.add_node(f"br{b}", BridgeNode(namespace="hub", addresses=(f"10.{100 + b}.0.1/16",)))
    for i in range(n):
        b, j = divmod(i, per_bridge)
        topo.add_node(f"s{i}", NetnsNode())
        address = f"10.{100 + b}.{1 + j // 250}.{1 + j % 250}/16"
        topo.add_link(Link((Endpoint(f"s{i}", "eth0", (address,)), Endpoint(f"br{b}", f"p{i}"))))
    return topo


def phase_big_lab(helper: RunningHelper, namespaces: int) -> None:
    baseline = fds(helper.pid)
    sampler = FdSampler(helper.pid)
    sampler.start()
    document = to_document(big_lab(namespaces))
    with helper.client() as client:
        started = time.perf_counter()
        result = client.call("lab.apply", {"topology": document})
        applied = time.perf_counter() - started
        time.sleep(0.3)
        idle_with_lab = fds(helper.pid)
        started = time.perf_counter()
        report = client.call("lab.destroy", {"lab": "soak-big"})
        destroyed = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    time.sleep(0.3)
    print(
        f"big lab: {namespaces + 1} namespaces, {len(result['steps'])} steps: apply "
        f"{applied:.1f} s, destroy {destroyed:.1f} s ({len(report['removed'])} removed, "
        f"{len(report['skipped'])} skipped)"
    )
    print(
        f"  fds: idle {baseline}, peak during apply/destroy {sampler.peak}, idle with the "
        f"lab up {idle_with_lab}, after destroy {fds(helper.pid)} (soft limit 1,024)"
    )


def silent_subscriber(helper: RunningHelper, lab: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(str(helper.socket))
    call = {"jsonrpc": "2.0", "id": 1, "method": "events.subscribe", "params": {"lab": lab}}
    sock.sendall(HELLO + json.dumps(call).encode() + b"\n")
    return sock  # and never read from again


def toggle_ports(helper: RunningHelper, rate: int, seconds: float, stop: threading.Event) -> int:
    """Set bridge ports down and up at a steady pace; about five kernel events each
    (port and peer: state and carrier; the bridge)."""
    per_s = rate / 5
    batch = helper.sandbox.popen("ip", "-n", "hub", "-batch", "-", stdin=subprocess.PIPE, text=True)
    assert batch.stdin is not None
    begin, i = time.monotonic(), 0
    try:
        while not stop.is_set() and time.monotonic() - begin < seconds:
            port, state = f"p{i % 20}", ("down", "up")[i // 20 % 2]
            batch.stdin.write(f"link set {port} {state}\n")
            batch.stdin.flush()
            i += 1
            delay = begin + i / per_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    finally:
        batch.stdin.close()
        batch.wait(10)
    return i


def phase_silent_subscribers(
    helper: RunningHelper, subscribers: int, seconds: float, rate: int
) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": to_document(star(20, "soak-events"))})
    idle = idle_figures(helper)
    print(
        f"idle (a 21-namespace lab up): RSS {idle['rss_mib']:.1f} MiB, {idle['fds']} fds, "
        f"CPU {idle['cpu_pct']:.1f}%"
    )
    latencies: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        with helper.client() as client:
            while not stop.is_set():
                started = time.perf_counter()
                client.call("lab.status", {"lab": "soak-events"})
                latencies.append((time.perf_counter() - started) * 1000)
                time.sleep(0.02)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    time.sleep(1)
    quiet = list(latencies)
    cpu_before = cpu_seconds(helper.pid)
    counter = Listener(helper, "events.subscribe", {"lab": "soak-events"})  # one that reads
    time.sleep(1)
    counted = len(counter.events)
    silent = [silent_subscriber(helper, "soak-events") for _ in range(subscribers)]
    started = time.monotonic()
    toggles = toggle_ports(helper, rate, seconds, stop)
    elapsed = time.monotonic() - started
    events = len(counter.events) - counted
    counter.close()
    cpu = 100 * (cpu_seconds(helper.pid) - cpu_before) / elapsed
    peak_rss, peak_fds = helper.rss_kib() / 1024, fds(helper.pid)
    dropped_by_helper = sum(1 for sock in silent if _closed(sock))
    loaded = latencies[len(quiet) :]
    for sock in silent:
        sock.close()
    time.sleep(2)
    stop.set()
    prober.join(10)
    after = idle_figures(helper)
    print(
        f"{subscribers} subscribers that never read, {toggles} port toggles in "
        f"{elapsed:.0f} s ({events / elapsed:.0f} events/s reached a reading client): helper CPU "
        f"{cpu:.0f}%, RSS {peak_rss:.1f} MiB, {peak_fds} fds; {dropped_by_helper} "
        "disconnected by the helper for not reading"
    )
    print(
        f"  a normal client's lab.status: quiet p50 {statistics.median(quiet):.1f} ms; "
        f"under load p50 {statistics.median(loaded):.1f} ms, p99 "
        f"{percentile(loaded, 99):.1f} ms, max {max(loaded):.1f} ms ({len(loaded)} calls)"
    )
    print(
        f"after they hung up: RSS {after['rss_mib']:.1f} MiB (idle {idle['rss_mib']:.1f}), "
        f"{after['fds']} fds (idle {idle['fds']}), CPU {after['cpu_pct']:.1f}% "
        f"(idle {idle['cpu_pct']:.1f}%)"
    )
    with helper.client() as client:
        client.call("lab.destroy", {"lab": "soak-events"})


def _closed(sock: socket.socket) -> bool:
    import select

    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | 0x2000)  # POLLRDHUP
    return any(event & (0x2000 | select.POLLHUP) for _, event in poller.poll(0))


def main(namespaces: int, subscribers: int, seconds: float, rate: int) -> None:
    with helper_in_sandbox("nstopo-soak-") as helper:
        _, hard = resource.prlimit(helper.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(helper.pid, resource.RLIMIT_NOFILE, (1024, hard))
        phase_big_lab(helper, namespaces)
        phase_silent_subscribers(helper, subscribers, seconds, rate)


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:]]
    defaults = [2000, 50, 30, 1000]
    n, subs, secs, rate = (args + defaults[len(args) :])[:4]
    main(int(n), int(subs), secs, int(rate))
