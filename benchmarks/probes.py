"""Ping and capture figures (issue: ping/capture), in a sandbox with a real helper.

- ping: how long after a reply reaches the helper the client has it (helper and
  client stamp with the same clock); over 200 echoes.
- capture: UDP between two lab namespaces at a paced rate (default 5,000 packets/s
  for 5 s), captured on the receiving veth; packets streamed, dropped (by nstopo's
  queue and by the kernel), and the helper's CPU while it runs.

    sudo .venv/bin/python benchmarks/probes.py [RATE] [SECONDS]
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from helper_process import helper_in_sandbox
from nstopo.resources import EXAMPLES

SENDER = """
import socket, sys, time
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"warm", ("10.10.0.2", 9)); time.sleep(0.2)  # ARP first
start, n = time.perf_counter(), 0
while (now := time.perf_counter()) - start < seconds:
    due = int((now - start) * rate)
    while n < due:
        s.sendto(b"x" * 64, ("10.10.0.2", 9)); n += 1
    time.sleep(0.0005)
print(n)
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(rate: float, seconds: float) -> None:
    with helper_in_sandbox("nstopo-bench-") as helper:
        box = helper.sandbox
        with helper.client() as client:
            client.call("lab.apply", {"topology": (EXAMPLES / "veth-namespaces.yaml").read_text()})
            delays: list[float] = []

            def reply(method: str, params: dict) -> None:
                if method == "ping.reply":
                    delays.append((time.time() - params["time"]) * 1000)

            client.call(
                "ping.start",
                {
                    "lab": "veth-namespaces",
                    "source": "left",
                    "target": "right",
                    "count": 200,
                    "interval": 0.005,
                },
                reply,
            )
        print(
            f"ping: reply to client {statistics.median(delays):.2f} ms median, "
            f"p99 {statistics.quantiles(delays, n=100)[98]:.2f} ms, max {max(delays):.2f} ms "
            f"over {len(delays)} echoes (target: within 50 ms)"
        )

        got, ended = [0], {}

        def packet(method: str, params: dict) -> None:
            if method == "capture.packet":
                got[0] += 1
            elif method == "capture.end":
                ended.update(params)

        listener = helper.client()
        started = listener.call(
            "capture.start",
            {"lab": "veth-namespaces", "node": "right", "interface": "eth0", "filter": "udp"},
        )
        thread = threading.Thread(target=lambda: listener.listen(packet), daemon=True)
        thread.start()
        cpu_before, t0 = cpu_seconds(helper.pid), time.perf_counter()
        sent = int(
            box.run(
                "ip", "netns", "exec", "left", sys.executable, "-c", SENDER, str(rate), str(seconds)
            ).stdout
        )
        time.sleep(0.5)
        elapsed = time.perf_counter() - t0
        cpu = (cpu_seconds(helper.pid) - cpu_before) / elapsed * 100
        with helper.client() as control:
            control.call("helper.info")
        listener.send("capture.stop", {"capture": started["capture"]})  # its thread reads
        thread.join(2)
        listener.close()
        print(
            f"capture: sent {sent} UDP packets in {seconds:.0f} s ({sent / seconds:.0f}/s); "
            f"streamed {got[0]}, dropped by nstopo {ended.get('dropped', '?')}, by the kernel "
            f"{ended.get('kernel_dropped', '?')}; helper CPU {cpu:.0f}% of one core"
        )


if __name__ == "__main__":
    args = sys.argv[1:]
    main(float(args[0]) if args else 5000, float(args[1]) if len(args) > 1 else 5)
