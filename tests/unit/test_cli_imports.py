"""The fast commands load only the protocol, the client and the standard library: no
model (pydantic, networkx, ruamel), no Qt, no pyroute2. Each runs in a fresh
interpreter against a socket where no helper listens, which goes through the same
imports as a real call up to the answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from nstopo.resources import EXAMPLES

# What a fast command may load of nstopo (ping adds its text module, plain strings).
ALLOWED = {
    "nstopo",
    "nstopo.backend",
    "nstopo.backend.client",
    "nstopo.backend.paths",
    "nstopo.cli",
    "nstopo.cli.common",
    "nstopo.cli.main",
    "nstopo.cli.online",
    "nstopo.protocol",
    "nstopo.protocol.errors",
    "nstopo.protocol.methods",
    "nstopo.protocol.wire",
}
HEAVY = ("pydantic", "networkx", "ruamel", "PySide6", "shiboken6", "pyroute2", "dpkt", "yaml")

PROBE = """
import json, sys
from nstopo.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def modules_of(tmp_path: Path, *argv: str) -> tuple[int, set[str]]:
    env = {"NSTOPO_SOCKET": str(tmp_path / "no-helper.sock"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, timeout=60
    )
    report = json.loads(done.stdout.splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["status"],
        ["status", "lab", "--json"],
        ["destroy", "lab"],
        ["events"],
        ["ping", "lab", "a", "b", "-c", "1"],
        ["capture", "lab", "a:eth0", "-c", "1", "icmp"],
        ["apply", str(EXAMPLES / "bridge-fixed.yaml")],
        ["destroy", str(EXAMPLES / "bridge-fixed.yaml")],
        ["exec", "lab", "a", "--", "true"],
        ["shell", "lab", "a"],
        ["logs", "lab", "a"],
        ["show", "lab", "a", "routes"],
        ["doctor"],
    ],
)
def test_fast_commands_import_only_the_protocol_and_the_client(
    tmp_path: Path, argv: list[str]
) -> None:
    code, modules = modules_of(tmp_path, *argv)
    assert code == (0 if argv == ["--help"] else 1)  # no helper: one sentence, exit 1
    ours = {name for name in modules if name.startswith("nstopo")}
    extra = {
        "ping": {"nstopo.model", "nstopo.model.probetext"},
        "capture": {"nstopo.backend.pcapfile"},  # 40 lines of struct: pcap record times
        "exec": {"nstopo.cli.exec_cmd"},  # the commands inside nodes: their own module
        "shell": {"nstopo.cli.exec_cmd"},
        "logs": {"nstopo.cli.exec_cmd"},
        "show": {"nstopo.cli.show_cmd"},
        "doctor": {
            "nstopo.backend.doctorclient",
            "nstopo.cli.doctor_cmd",
            "nstopo.model",
            "nstopo.model.doctor",
        },
    }.get(argv[0], set())
    assert ours <= ALLOWED | extra, sorted(ours - ALLOWED - extra)
    assert not [name for name in modules if name.split(".")[0] in HEAVY]


def test_offline_commands_still_work_without_a_helper(tmp_path: Path) -> None:
    """The check above is not vacuous: validate really does load the model."""
    code, modules = modules_of(tmp_path, "validate", str(EXAMPLES / "bridge-fixed.yaml"))
    assert code == 0
    assert "nstopo.model.yamlfile" in modules and "pydantic" in modules


def _loaded_by(code: str) -> set[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return set(json.loads(done.stdout))


def test_the_protocol_needs_only_the_standard_library() -> None:
    before = _loaded_by("")  # the interpreter's own start-up (site, the editable finder)
    loaded = _loaded_by("from nstopo.protocol import check, errors, messages, methods, wire")
    new = loaded - before
    assert {name.split(".")[0] for name in new} - sys.stdlib_module_names == {"nstopo"}
    assert {name for name in new if name.startswith("nstopo.")} == {
        "nstopo.protocol",
        "nstopo.protocol.check",
        "nstopo.protocol.errors",
        "nstopo.protocol.messages",
        "nstopo.protocol.methods",
        "nstopo.protocol.wire",
    }
