"""Capture lines against the real tcpdump: the same frames, written to a pcap by
nstopo's writer, read back by `tcpdump -n -r` and `tcpdump -n -e -r`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from frames import corpus
from nstopo.backend.packets import describe
from nstopo.backend.pcapfile import LINKTYPE_ETHERNET, PcapWriter

TCPDUMP = shutil.which("tcpdump") or "/usr/bin/tcpdump"
needs_tcpdump = pytest.mark.skipif(
    not Path(TCPDUMP).exists(), reason="tcpdump is not installed (scripts/test installs it)"
)


def tcpdump_lines(pcap: Path, *options: str) -> list[str]:
    """One line per packet (hex dumps of undecoded data dropped), no timestamp."""
    done = subprocess.run(
        [TCPDUMP, "-t", "-n", *options, "-r", str(pcap)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [line.rstrip() for line in done.stdout.splitlines() if not line.startswith("\t")]


@needs_tcpdump
@pytest.mark.parametrize("macs", [False, True], ids=["n", "n-e"])
def test_every_line_is_the_one_tcpdump_prints(tmp_path: Path, macs: bool) -> None:
    frames = corpus()
    pcap = tmp_path / "corpus.pcap"
    with open(pcap, "wb") as out:
        writer = PcapWriter(out, LINKTYPE_ETHERNET)
        for index, frame in enumerate(frames.values()):
            writer.write(frame, (1_700_000_000 + index) * 1_000_000_000)
    theirs = tcpdump_lines(pcap, *(["-e"] if macs else []))
    key = "link_summary" if macs else "summary"
    ours = [describe(frame)[key].rstrip() for frame in frames.values()]
    assert len(theirs) == len(ours)
    different = [
        f"{name}:\n  tcpdump: {t}\n  nstopo:  {o}"
        for name, t, o in zip(frames, theirs, ours, strict=True)
        if t != o
    ]
    assert not different, "\n".join(different)


def test_vlan_tags_are_listed_outermost_first() -> None:
    frames = corpus()
    assert describe(frames["qinq 100 over 20"])["vlans"] == [100, 20]
    assert describe(frames["vlan 10"])["vlans"] == [10]
    assert describe(frames["icmp echo request"])["vlans"] == []
