"""Checks the editor changed, saved into the file's checks: (issue 18's check editor): what
was not changed keeps its text and comments, what was changed reads back as it was
meant, and no checks left means no checks: key."""

from __future__ import annotations

from pathlib import Path

from nstopo.model.checks import Check, ExecProbe, Expectation, PingProbe, renamed
from nstopo.model.yamlfile import dumps, parse_text, save

TEXT = """\
nstopo: 1
name: lab
nodes:
  a: {kind: netns}
  b: {kind: netns}
checks:
  - name: a to b   # written by hand
    ping: {from: a, to: b}
"""


def test_an_added_check_is_written_after_the_hand_written_one() -> None:
    loaded = parse_text(TEXT)
    added = Check(name="b out of eth0", ping=PingProbe(source="b", to="a", interface="eth0"))
    wrong = Check(
        name="a lists lo",
        exec=ExecProbe(node="a", command="ip -br link"),
        expect=Expectation(contains=("lo",)),
        timeout=3,
    )
    text = dumps(loaded.topology, loaded, (*loaded.checks, added, wrong))
    assert text.startswith(TEXT)
    assert "  - name: b out of eth0\n    ping: {from: b, to: a, interface: eth0}\n" in text
    again = parse_text(text)
    assert again.problems == []
    assert again.checks == (*loaded.checks, added, wrong)


def test_an_edited_check_keeps_its_comment_and_reads_back() -> None:
    loaded = parse_text(TEXT)
    (check,) = loaded.checks
    edited = Check(name="a cannot reach b", ping=check.ping, expect="fail")
    text = dumps(loaded.topology, loaded, (edited,))
    assert "# written by hand" in text
    assert parse_text(text).checks == (edited,)


def test_no_checks_left_removes_the_key(tmp_path: Path) -> None:
    loaded = parse_text(TEXT)
    target = tmp_path / "lab.yaml"
    base = save(loaded.topology, target, loaded, ())
    assert "checks" not in target.read_text()
    assert base.checks == ()
    # The next save compares with what was written: unchanged, nothing comes back.
    save(loaded.topology, target, base)
    assert "checks" not in target.read_text()


def test_checks_not_given_stay_as_the_file_has_them() -> None:
    loaded = parse_text(TEXT)
    assert dumps(loaded.topology, loaded) == TEXT
    assert dumps(loaded.topology, loaded, loaded.checks) == TEXT


def test_a_renamed_node_is_renamed_in_every_kind_of_check() -> None:
    text = TEXT.split("checks:")[0] + (
        "checks:\n"
        "  - name: p\n    ping: {from: a, to: b}\n"
        "  - name: c\n    capture: {node: 'a:eth0', while: {ping: {from: b, to: a}}}\n"
        "    expect: {contains: ICMP}\n"
        "  - name: e\n    exec: {node: a, command: ip route}\n    expect: {status: 0}\n"
        "  - name: k\n    kernel: {node: a, route: default}\n"
    )
    loaded = parse_text(text)
    ping, capture, run, kernel = renamed(loaded.checks, "a", "z")
    assert (ping.ping.source, ping.ping.to) == ("z", "b")
    assert capture.capture.node == "z:eth0" and capture.capture.during.ping.to == "z"
    assert run.exec.node == "z" and kernel.kernel.node == "z"
    assert renamed(loaded.checks, "q", "z") == loaded.checks


def test_a_ping_target_that_is_an_address_is_not_taken_for_a_node() -> None:
    """Renaming node a must leave the IPv6 target a::1 (and a:b::2) as written."""
    text = TEXT.split("checks:")[0] + (
        "checks:\n"
        "  - name: six\n    ping: {from: a, to: 'a::1'}\n"
        "  - name: other\n    ping: {from: b, to: 'a:b::2'}\n"
    )
    six, other = renamed(parse_text(text).checks, "a", "z")
    assert (six.ping.source, six.ping.to) == ("z", "a::1")
    assert other.ping.to == "a:b::2"
