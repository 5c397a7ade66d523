"""The offline `nstopo` commands, run in-process, and a fuzz test of bad files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nstopo.cli.main import main
from nstopo.model.plan import plan_up
from nstopo.model.yamlfile import load
from nstopo.resources import EXAMPLES

PROBLEM_LINE = re.compile(r"^\S+?(:\d+(:\d+)?)?: (error|warning): [^\n]+ \[[a-z-]+\]$")
SUMMARY_LINE = re.compile(r"^\S+: \d+ errors?, \d+ warnings?$")


@pytest.fixture(autouse=True)
def no_helper(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NSTOPO_SOCKET", str(tmp_path / "no-helper.sock"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_ok_prints_a_summary(capsys, example_file: Path) -> None:
    code, out, err = run(capsys, "validate", str(example_file))
    assert code == 0
    assert out.startswith(f"{example_file}: valid (")
    assert all(PROBLEM_LINE.match(line) for line in err.splitlines())


def test_validate_reports_errors_with_position_and_exit_1(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("nstopo: 1\nname: x\nnodes:\n  a: {kind: netns}\nlinks:\n"
                   "  - endpoints: [a:eth0, b:eth0]\n")  # fmt: skip
    code, out, err = run(capsys, "validate", str(bad))
    assert code == 1 and out == ""
    first, summary = err.splitlines()
    assert first.startswith(f'{bad}:6:25: error: link 1, endpoint 2 names node "b"')
    assert first.endswith("[missing-node]")
    assert summary == f"{bad}: 1 error, 0 warnings"


def test_plan_prints_the_commands_and_says_it_is_from_scratch(capsys) -> None:
    path = EXAMPLES / "container-bridge.yaml"
    code, out, err = run(capsys, "plan", str(path))
    assert code == 0
    assert out == "".join(f"{c}\n" for c in plan_up(load(path).topology).commands())
    assert "no helper is reachable" in err and "from scratch" in err


def test_plan_refuses_an_invalid_file(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("nstopo: 1\nname: x\nnodes:\n  br0: {kind: bridge, addresses: [nope]}\n")
    code, out, err = run(capsys, "plan", str(bad))
    assert (code, out) == (1, "")
    assert ":4:35: error:" in err and "it is not an IP address" in err


def test_export_script_writes_an_executable_script(capsys, tmp_path: Path) -> None:
    target = tmp_path / "lab.sh"
    code, _, _ = run(capsys, "export", str(EXAMPLES / "bridge-fixed.yaml"), "--script",
                     str(target))  # fmt: skip
    assert code == 0
    text = target.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert target.stat().st_mode & 0o111
    assert "up() {" in text and "down() {" in text
    assert "  ip -n hub link add name p0 type veth peer name eth0 netns a" in text
    assert "  quietly ip netns del hub" in text


def test_missing_file_is_one_sentence(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "validate", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert err.count("\n") == 1 and "cannot read the file" in err


def test_commands_that_need_the_helper_say_how_to_start_it(capsys) -> None:
    for argv in (["apply", str(EXAMPLES / "loopback.yaml")], ["status"], ["destroy", "lab"]):
        code, _, err = run(capsys, *argv)
        assert code == 1
        assert err.count("\n") == 1 and "no nstopo helper is running at" in err
        assert "sudo nstopo helper" in err


def test_usage_errors_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["ping", "lab"])
    assert exc.value.code == 2


# -- fuzz: whatever the bytes, one clear error per problem, exit 1, no traceback --------------

VALID = [p.read_bytes() for p in sorted(EXAMPLES.glob("*.yaml"))]


@st.composite
def broken_files(draw: st.DrawFn) -> bytes:
    source = draw(st.sampled_from(VALID))
    how = draw(st.sampled_from(["truncate", "garbage", "splice", "binary", "retype"]))
    if how == "truncate":
        return source[: draw(st.integers(0, len(source) - 1))]
    if how == "garbage":
        at = draw(st.integers(0, len(source)))
        junk = draw(st.binary(min_size=1, max_size=12))
        return source[:at] + junk + source[at:]
    if how == "splice":
        chars = draw(st.sampled_from(["{", "}", "[", "]", ":", "- ", "\t", "'", '"', "&a", "*a",
                                      "!!python/object:os.system", "\n  ", "%", "@"]))  # fmt: skip
        at = draw(st.integers(0, len(source)))
        return source[:at] + chars.encode() + source[at:]
    if how == "retype":
        values = [b"[1, 2]", b"{a: 1}", b"null", b"3.5", b"true", b"''", b"-1", b"2020-01-01"]
        lines = source.split(b"\n")
        index = draw(st.integers(0, len(lines) - 1))
        key, sep, _ = lines[index].partition(b": ")
        if sep:
            lines[index] = key + sep + draw(st.sampled_from(values))
        return b"\n".join(lines)
    return draw(st.binary(min_size=0, max_size=200))


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=broken_files())
def test_fuzz_bad_files_never_crash(data: bytes, tmp_path: Path, capsys) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code in (0, 1)
    assert "Traceback" not in err
    lines = err.splitlines()
    if code == 1:
        assert lines, "exit 1 without saying why"
        assert all(PROBLEM_LINE.match(x) or SUMMARY_LINE.match(x) for x in lines), err
        assert all(x.startswith(str(path)) for x in lines)


BROKEN = [b"", b"\x00\x01\x02", b"\xff\xfe garbage", b"nstopo: 1\nname: [",
          b"- just\n- a list\n", b"nstopo: 1\nname: a\nnodes: {a: "]  # fmt: skip


@pytest.mark.parametrize("data", BROKEN)
def test_obviously_broken_files_exit_1(data: bytes, tmp_path: Path, capsys) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(data)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:") and "error:" in err


def test_a_file_alone_or_nothing_opens_the_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    from nstopo.cli import offline

    opened: list[str | None] = []
    monkeypatch.setattr(offline, "cmd_gui", lambda args: opened.append(args.file) or 0)
    path = str(EXAMPLES / "loopback.yaml")
    assert main([path]) == 0 and main([]) == 0 and main(["gui", path]) == 0
    assert opened == [path, None, path]
    with pytest.raises(SystemExit) as exc:
        main(["stauts"])  # a mistyped command is a usage error, not a file to open
    assert exc.value.code == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--bogus"],
        ["capture", "lab", "a:eth0", "-x"],
        ["ping", "lab", "a", "b", "-c", "many"],
        ["export", str(EXAMPLES / "loopback.yaml")],  # one output is required
        ["destroy"],
    ],
)
def test_more_usage_errors_exit_2(capsys, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("usage: nstopo")


def test_capture_filter_words_may_follow_its_options(
    capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nstopo.cli import online

    seen: list[list[str]] = []
    monkeypatch.setattr(online, "cmd_capture", lambda args: seen.append(args.filter) or 0)
    assert main(["capture", "lab", "a:eth0", "icmp", "-c", "2", "and", "host", "10.0.0.1"]) == 0
    assert seen == [["icmp", "and", "host", "10.0.0.1"]]


def test_a_helper_that_hangs_up_mid_answer_is_one_sentence(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A helper that closes without reading the request (it crashed, it was killed)
    resets the connection: the command says so in a sentence, no traceback."""
    import socket
    import threading

    path = tmp_path / "h.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)

    def hang_up() -> None:
        conn, _ = server.accept()
        while not conn.recv(1, socket.MSG_PEEK):  # the hello is there, unread
            pass
        conn.close()  # unread data: the client's recv gets ECONNRESET

    thread = threading.Thread(target=hang_up)
    thread.start()
    monkeypatch.setenv("NSTOPO_SOCKET", str(path))
    try:
        assert main(["status"]) == 1
    finally:
        thread.join(5)
        server.close()
    err = capsys.readouterr().err
    assert err.startswith("nstopo: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "helper" in err
