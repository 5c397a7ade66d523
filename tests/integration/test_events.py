"""Live events and counters from a real helper, for changes made outside nstopo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

from helper_process import NSTOPO, Listener, RunningHelper
from nstopo.resources import EXAMPLES
from sandbox import needs_root, quote, run_sandboxed

pytestmark = needs_root


def apply_example(helper: RunningHelper, name: str) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": (EXAMPLES / f"{name}.yaml").read_text()})


def test_a_change_made_by_hand_arrives_as_events(helper: RunningHelper) -> None:
    apply_example(helper, "veth-namespaces")
    events = Listener(helper, "events.subscribe", {"lab": "veth-namespaces"})
    try:
        events.wait_for(
            lambda m, p: (
                m == "link.changed"
                and p["resync"]
                and p["name"] == "eth0"
                and p["namespace"] == "left"
                and p["up"]
            )
        )
        helper.sandbox.run("ip", "-n", "left", "link", "set", "eth0", "down")
        done = time.monotonic()
        at, down = events.wait_for(
            lambda m, p: (
                m == "link.changed" and not p["resync"] and p["namespace"] == "left" and not p["up"]
            )
        )
        assert down["name"] == "eth0" and down["lab"] == "veth-namespaces"
        assert at - done < 1.0
        # Its peer stays admin up but loses its carrier (DOWN or LOWERLAYERDOWN by kernel).
        events.wait_for(
            lambda m, p: (
                m == "link.changed" and p["namespace"] == "right" and p["up"] and p["oper"] != "UP"
            )
        )
        helper.sandbox.run("ip", "-n", "right", "addr", "add", "10.10.0.9/24", "dev", "eth0")
        _, added = events.wait_for(
            lambda m, p: m == "addr.changed" and p["address"] == "10.10.0.9/24"
        )
        assert (added["interface"], added["address"], added["change"]) == (
            "eth0",
            "10.10.0.9/24",
            "new",
        )
    finally:
        events.close()


def test_the_host_watcher_reports_only_the_labs_devices(helper: RunningHelper) -> None:
    apply_example(helper, "veth-host")
    events = Listener(helper, "events.subscribe", {"lab": "veth-host"})
    try:
        helper.sandbox.run("ip", "link", "set", "eth0", "mtu", "1400")  # the host's own
        helper.sandbox.run("ip", "link", "set", "veth0", "mtu", "1400")  # the lab's
        events.wait_for(
            lambda m, p: m == "link.changed" and p["name"] == "veth0" and p["mtu"] == 1400
        )
        time.sleep(0.2)
        assert not [
            p
            for _, _, p in events.events
            if p.get("name") in ("eth0", "eth0-peer") and p.get("namespace") is None
        ]
    finally:
        events.close()
        helper.sandbox.run("ip", "link", "set", "eth0", "mtu", "1500")


def test_counters_follow_traffic_between_lab_namespaces(helper: RunningHelper) -> None:
    apply_example(helper, "veth-namespaces")
    counters = Listener(helper, "counters.subscribe", {"lab": "veth-namespaces", "interval": 0.1})

    def rx(params: dict[str, Any]) -> int:
        return next(
            i["rx_packets"]
            for i in params["interfaces"]
            if i["namespace"] == "right" and i["name"] == "eth0"
        )

    try:
        _, first = counters.wait_for(lambda m, p: m == "counters")
        # Five UDP datagrams from left to right (after ARP): traffic only inside the lab.
        send = (
            "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            "[s.sendto(b'x', ('10.10.0.2', 9)) for _ in range(5)]"
        )
        helper.sandbox.run("ip", "netns", "exec", "left", sys.executable, "-c", send)
        counters.wait_for(lambda m, p: m == "counters" and rx(p) >= rx(first) + 5)
    finally:
        counters.close()


def test_destroy_stops_the_watchers(helper: RunningHelper) -> None:
    apply_example(helper, "veth-namespaces")
    events = Listener(helper, "events.subscribe", {})
    try:
        events.wait_for(lambda m, p: m == "link.changed" and p["resync"])
        with helper.client() as client:
            client.call("lab.destroy", {"lab": "veth-namespaces"})
            info = client.call("helper.info")
        assert info["pid"] == helper.pid  # still serving, nothing crashed
    finally:
        events.close()


def test_events_cli_prints_json_lines_until_interrupted(helper: RunningHelper) -> None:
    apply_example(helper, "veth-namespaces")
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    proc = subprocess.Popen(
        [NSTOPO, "events", "veth-namespaces"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["event"] == "link.changed" and first["lab"] == "veth-namespaces"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) in (0, 130)
        assert "Traceback" not in proc.stderr.read()


OVERFLOW = textwrap.dedent("""
    import asyncio, json, socket, subprocess
    from nstopo.backend import watch
    from nstopo.backend.realizer import Realizer

    events = []
    realizer = Realizer()

    async def main():
        loop = asyncio.get_running_loop()
        watcher = watch.NamespaceWatcher(realizer, "lab", None,
                                         lambda lab, m, p: events.append((m, p)))
        watcher.open()
        watcher.start(loop)
        watcher.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # force ENOBUFS
        loop.remove_reader(watcher.sock.fileno())  # stop reading while the kernel talks
        subprocess.run(["bash", "-c", "for i in $(seq 150); do ip link add d$i type veth "
                        "peer name e$i; done"], check=True)
        loop.add_reader(watcher.sock.fileno(), watcher._readable)
        await asyncio.sleep(0.5)
        names = {p["name"] for m, p in events if m == "link.changed"}
        print(json.dumps({"resyncs": watcher.resyncs, "seen_d150": "d150" in names,
                          "seen_e1": "e1" in names}))
        watcher.close(loop)

    asyncio.run(main())
    realizer.close()
""")


def test_lost_events_trigger_a_full_resync() -> None:
    done = run_sandboxed(quote(sys.executable, "-c", OVERFLOW))
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"resyncs": result["resyncs"], "seen_d150": True, "seen_e1": True}
    assert result["resyncs"] >= 1
