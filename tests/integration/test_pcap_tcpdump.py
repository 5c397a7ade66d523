"""`nstopo capture -w` against tcpdump: the pcap it leaves, also when ended by SIGTERM,
reads back in tcpdump as the lines nstopo printed (packets, lengths, VLAN tags), with
the kernel's timestamps (the same as tcpdump's own capture of the same packets) and
whole frames (9000-byte ones too)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dpkt
import pytest
from helper_process import NSTOPO, RunningHelper
from nstopo.model.yamlfile import load
from nstopo.resources import EXAMPLES
from sandbox import needs_root

pytestmark = [
    needs_root,
    pytest.mark.skipif(not shutil.which("tcpdump"), reason="tcpdump missing (scripts/test)"),
]
FRAMES = str(Path(__file__).resolve().parents[1] / "frames.py")
INJECTED = [
    "vlan 10",
    "qinq 100 over 20",
    "unknown ethertype",
    "icmp udp port unreachable",
    "neighbour advertisement",
    "ip cut short inside icmp",
]


def read_pcap(path: Path) -> list[tuple[int, int, bytes]]:
    """(seconds, microseconds, frame) of each record, as tcpdump reads it."""
    with open(path, "rb") as f:
        reader = dpkt.pcap.Reader(f)
        assert reader.snaplen == 262144
        return [(int(ts), round((ts - int(ts)) * 1e6), bytes(frame)) for ts, frame in reader]


def test_a_capture_ended_by_sigterm_reads_back_in_tcpdump(
    helper: RunningHelper, tmp_path: Path
) -> None:
    topology = load(EXAMPLES / "veth-namespaces.yaml").topology
    topology.update_link(topology.link_ids()[0], mtu=9000)
    with helper.client() as client:
        client.call("lab.apply", {"topology": topology_text(topology)})
    ours, theirs = tmp_path / "nstopo.pcap", tmp_path / "tcpdump.pcap"
    reference = helper.sandbox.popen(
        "ip", "netns", "exec", "right", "tcpdump", "-i", "eth0", "-n", "-U", "-Z", "root",
        "-w", str(theirs), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    proc = subprocess.Popen(
        [NSTOPO, "capture", "veth-namespaces", "right:eth0", "-e", "-w", str(ours)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None and proc.stdout is not None
    assert "listening on eth0 in right" in proc.stderr.readline()
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(proc.stdout), daemon=True)
    reader.start()
    assert reference.stderr is not None
    assert "listening on eth0" in reference.stderr.readline()
    sandbox = helper.sandbox
    sandbox.run("ip", "netns", "exec", "left", "ping", "-c", "2", "-i", "0.2", "-s", "8000",
                "10.10.0.2")  # fmt: skip
    sandbox.run("ip", "netns", "exec", "left", sys.executable, FRAMES, "eth0", *INJECTED)
    deadline = time.monotonic() + 10  # the pings' 4 frames and the injected ones printed
    while len(printed) < 4 + len(INJECTED) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    reader.join(5)
    # tcpdump's ring hands packets over in blocks, up to 1 s late, and drops the last
    # block on SIGTERM: it stops well after ours, so it has every packet ours has.
    time.sleep(1.5)
    reference.send_signal(signal.SIGTERM)
    reference.wait(timeout=10)
    assert proc.returncode == 0, err
    assert f"{len(printed)} packets captured" in err

    # tcpdump reads our file as the lines we printed (minus the direction column).
    done = subprocess.run(["tcpdump", "-n", "-e", "-r", str(ours)], capture_output=True,
                          text=True, check=True)  # fmt: skip
    tcpdump_lines = [line.rstrip() for line in done.stdout.splitlines() if line[:1] != "\t"]
    our_lines = [strip_direction(line) for line in printed]
    assert our_lines == tcpdump_lines
    joined = "\n".join(our_lines)
    assert "length 8042: 10.10.0.1 > 10.10.0.2: ICMP echo request" in joined  # whole
    assert "ethertype 802.1Q (0x8100), length 102: vlan 10, p 0, ethertype IPv4" in joined
    assert "ethertype 802.1Q-QinQ (0x88a8), length 106: vlan 100, p 0, ethertype 802.1Q" in joined

    # The same frames and timestamps as tcpdump's own capture: the kernel's time.
    mine, reference_records = read_pcap(ours), set(read_pcap(theirs))
    assert len(mine) == len(printed) >= 4 + len(INJECTED)
    missing = [record for record in mine if record not in reference_records]
    assert not missing, f"{len(missing)} of {len(mine)} packets differ from tcpdump's"


def strip_direction(line: str) -> str:
    stamp, _, rest = line.rstrip("\n").partition(" ")
    return f"{stamp} {rest[4:]}".rstrip()  # "in  " / "out "


def topology_text(topology) -> str:
    from nstopo.model.yamlfile import dumps

    return dumps(topology)
