"""nstopo ping against iputils ping, run in the same namespace of the same lab:
round-trip times, scoped link-local targets, a dead neighbour, exit statuses."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import threading
import time

import pytest
from helper_process import NSTOPO, RunningHelper
from nstopo.resources import EXAMPLES
from sandbox import needs_root

pytestmark = [
    needs_root,
    pytest.mark.skipif(not shutil.which("ping"), reason="iputils ping missing (scripts/test)"),
]
LAB = "veth-namespaces"
TIME = re.compile(r"time=([\d.]+) ms")
UNREACHABLE = re.compile(r"^From \S+ icmp_seq=\d+ Destination Host Unreachable$", re.M)


@pytest.fixture
def lab(helper: RunningHelper) -> RunningHelper:
    with helper.client() as client:
        client.call("lab.apply", {"topology": (EXAMPLES / f"{LAB}.yaml").read_text()})
    return helper


def iputils(helper: RunningHelper, *args: str) -> subprocess.CompletedProcess[str]:
    return helper.sandbox.run("ip", "netns", "exec", "left", "ping", *args, check=False)


def nstopo(helper: RunningHelper, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    return subprocess.run(
        [NSTOPO, "ping", LAB, "left", *args], capture_output=True, text=True, env=env, timeout=60
    )


def median_rtt(output: str) -> float:
    times = [float(t) for t in TIME.findall(output)]
    assert len(times) >= 15, output
    return statistics.median(times)


def test_round_trip_times_are_within_2x_of_iputils(lab: RunningHelper) -> None:
    """Round trips on a veth are 6-40 microseconds, where one busy moment of the machine
    doubles a run's median: the two alternate for five rounds and each is judged by its
    middle round, within 2x or, below that noise floor, within 25 us of iputils. The bug
    this guards against read 0.4-0.7 ms against iputils' 0.05-0.1."""
    theirs_runs, ours_runs = [], []
    for _ in range(5):
        theirs_runs.append(median_rtt(iputils(lab, "-c", "30", "-i", "0.02", "10.10.0.2").stdout))
        ours_runs.append(median_rtt(nstopo(lab, "10.10.0.2", "-c", "30", "-i", "0.02").stdout))
    theirs, ours = sorted(theirs_runs)[2], sorted(ours_runs)[2]
    print(f"median rtt per round: iputils {theirs_runs} ms, nstopo {ours_runs} ms")
    assert theirs / 2 <= ours <= max(theirs * 2, theirs + 0.025)


def wait_for_link_local(helper: RunningHelper) -> None:
    """Link-local addresses answer once duplicate address detection is over (~1-2 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        tentative = [
            helper.sandbox.run("ip", "-n", ns, "-6", "addr", "show", "tentative").stdout
            for ns in ("left", "right")
        ]
        if not any(tentative):
            return
        time.sleep(0.1)
    raise AssertionError(f"still tentative: {tentative}")


def test_a_scoped_link_local_target_is_pinged_on_its_interface(lab: RunningHelper) -> None:
    wait_for_link_local(lab)
    shown = lab.sandbox.run("ip", "-n", "right", "-6", "-j", "addr", "show", "dev", "eth0")
    local = next(
        a["local"]
        for entry in json.loads(shown.stdout)
        for a in entry["addr_info"]
        if a["local"].startswith("fe80:")
    )
    ok = nstopo(lab, f"{local}%eth0", "-c", "2", "-i", "0.1")
    assert ok.returncode == 0, ok.stderr
    assert f"64 bytes from {local}%eth0: icmp_seq=1 ttl=64 time=" in ok.stdout
    bad = nstopo(lab, f"{local}%nosuch", "-c", "1")
    theirs = iputils(lab, "-c", "1", f"{local}%nosuch")
    assert bad.returncode == theirs.returncode == 2
    assert bad.stderr == f"nstopo: ping: {local}%nosuch: Name or service not known\n"
    assert theirs.stderr == f"ping: {local}%nosuch: Name or service not known\n"


# ARP gives up after its third probe, 3 s in: `-c 2 -W 1` ends before (iputils prints
# no error), five echoes 0.7 s apart are all still queued then (five errors). The
# second avoids a send at 3.0 s, which would race with ARP's verdict.
@pytest.mark.parametrize("options", [["-c", "2", "-W", "1"], ["-c", "5", "-i", "0.7", "-W", "1"]])
def test_a_dead_neighbour_reads_as_in_iputils(lab: RunningHelper, options: list[str]) -> None:
    # Two addresses nobody has, one each, pinged at the same time.
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    theirs = threading.Thread(
        target=lambda: results.update(iputils=iputils(lab, *options, "10.10.0.98"))
    )
    theirs.start()
    results["nstopo"] = nstopo(lab, "10.10.0.99", *options)
    theirs.join(30)
    ours, iputils_ = results["nstopo"], results["iputils"]
    assert ours.returncode == iputils_.returncode == 1
    seen = [line.split()[2] for line in UNREACHABLE.findall(ours.stdout)]
    expected = [line.split()[2] for line in UNREACHABLE.findall(iputils_.stdout)]
    assert seen == expected, f"nstopo:\n{ours.stdout}\niputils:\n{iputils_.stdout}"
    if "5" in options:
        assert len(expected) == 5, "iputils saw no dead neighbour: the test would prove nothing"


def test_exit_status_2_where_iputils_exits_2(lab: RunningHelper) -> None:
    bad_interface = ["-c", "1", "-I", "nosuch"]
    for ours, theirs in (
        (nstopo(lab, "10.20.0.1", "-c", "1"), iputils(lab, "-c", "1", "10.20.0.1")),
        (nstopo(lab, "right", *bad_interface), iputils(lab, *bad_interface, "10.10.0.2")),
    ):
        assert (ours.returncode, theirs.returncode) == (2, 2), (ours.stderr, theirs.stderr)
    assert nstopo(lab, "10.20.0.1").stderr == "nstopo: ping: connect: Network is unreachable\n"
    wrong = nstopo(lab, "nobody")
    assert wrong.returncode == 2 and 'has no node "nobody"' in wrong.stderr
