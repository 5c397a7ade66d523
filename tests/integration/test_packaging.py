"""packaging/: units, desktop entry and metainfo validate; install/uninstall leave
nothing behind; the socket lets a group member in, and nobody else."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from helper_process import NSTOPO, RunningHelper
from sandbox import Sandbox, needs_root

REPO = Path(__file__).resolve().parent.parent.parent
PACKAGING = REPO / "packaging"
BINDIR = str(Path(sys.executable).parent)
GROUP, GROUP_ID = "users", 100  # a group that exists everywhere and nobody is not in


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/test installs it as root)")


def filled(path: Path, tmp_path: Path) -> Path:
    out = tmp_path / path.name
    out.write_text(
        path.read_text().replace("@BINDIR@", BINDIR).replace("@DOCDIR@", str(REPO / "docs"))
    )
    return out


def test_systemd_units_verify(tmp_path: Path) -> None:
    need("systemd-analyze")
    units = [filled(p, tmp_path) for p in sorted((PACKAGING / "systemd").iterdir())]
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, units)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    service = units[0].read_text() if units[0].suffix == ".service" else units[1].read_text()
    for forbidden in (
        "PrivateTmp=",
        "ProtectSystem=",
        "ProtectHome=",
        "PrivateMounts=",
        "PrivateDevices=",
        "ProtectKernelTunables=",
        "ProtectControlGroups=",
    ):
        assert forbidden not in [
            line.split("=")[0] + "=" for line in service.splitlines() if not line.startswith("#")
        ]
    assert "CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_NET_RAW" in service
    assert "NoNewPrivileges=yes" in service and "RestrictAddressFamilies=" in service
    assert "LimitNOFILE=65536" in service  # a watched lab holds an fd per namespace
    # A node's commands run as `ip netns exec` runs them, in a mount namespace of their
    # own (systemd's seccomp filter cannot be stood in for: tests/integration/test_exec.py
    # checks the capabilities under the unit's bounding set).
    assert "\nRestrictNamespaces=net mnt\n" in service


def test_desktop_entry_validates(tmp_path: Path) -> None:
    need("desktop-file-validate")
    entry = filled(PACKAGING / "desktop" / "org.nstopo.nstopo.desktop", tmp_path)
    done = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert done.returncode == 0 and "error" not in done.stdout.lower(), done.stdout


def test_metainfo_validates() -> None:
    need("appstreamcli")
    done = subprocess.run(
        [
            "appstreamcli",
            "validate",
            "--no-net",
            str(PACKAGING / "metainfo" / "org.nstopo.nstopo.metainfo.xml"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_polkit_policy_names_the_helper() -> None:
    tree = ElementTree.parse(PACKAGING / "polkit" / "org.nstopo.helper.policy")
    action = tree.getroot().find("action")
    assert action is not None and action.get("id") == "org.nstopo.helper.start"
    keys = {a.get("key"): a.text for a in action.findall("annotate")}
    assert keys["org.freedesktop.policykit.exec.path"] == "@BINDIR@/nstopo"
    assert keys["org.freedesktop.policykit.exec.argv1"] == "helper"


def test_install_then_uninstall_into_a_staging_root_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    install = subprocess.run(
        [str(PACKAGING / "install.sh"), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    manifest = (root / "opt/nstopo/installed-files").read_text().split()
    for path in manifest:
        assert (root / path.lstrip("/")).exists() or (root / path.lstrip("/")).is_symlink()
    service = (root / "etc/systemd/system/nstopo-helper.service").read_text()
    assert "ExecStart=/opt/nstopo/venv/bin/nstopo helper" in service
    staged = root / "opt/nstopo/venv/bin/python"
    assert subprocess.run([str(staged), "-c", "import nstopo.cli.main"]).returncode == 0
    uninstall = subprocess.run(
        [str(PACKAGING / "uninstall.sh"), "--root", str(root)], capture_output=True, text=True
    )
    assert uninstall.returncode == 0, uninstall.stderr
    assert list(root.rglob("*")) == []


PROBE = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
def call(i, method, params):
    f.write(json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\\n")
    f.flush()
    while True:
        reply = json.loads(f.readline())
        if reply.get("id") == i or "error" in reply and reply.get("id") is None:
            return reply
first = call(0, "hello", {"protocol": [1]})
print(json.dumps(first))
if "result" in first:
    print(json.dumps(call(1, "lab.apply", {"topology": open(sys.argv[2]).read()})))
"""


def run_as_nobody(helper: RunningHelper, *groups: int) -> subprocess.CompletedProcess[str]:
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    lab = helper.base / "lab.yaml"
    lab.write_text((REPO / "resources/examples/veth-namespaces.yaml").read_text())
    lab.chmod(0o644)
    groups_arg = ",".join(map(str, groups)) if groups else None
    argv = [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        f"--groups={groups_arg}" if groups_arg else "--clear-groups",
        python,
        "-c",
        PROBE,
        str(helper.socket),
        str(lab),
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@needs_root
def test_a_group_member_can_apply_and_others_cannot() -> None:
    box = Sandbox()
    base = Path(tempfile.mkdtemp(prefix="nstopo-test-"))
    os.chmod(base, 0o755)
    helper = RunningHelper(box, base, group=GROUP)
    try:
        helper.start()
        member = run_as_nobody(helper, GROUP_ID)
        hello, applied = (json.loads(line) for line in member.stdout.splitlines())
        assert hello["result"]["protocol"] == 1
        assert applied["result"]["changed"] is True, applied
        namespaces = [
            line.split()[0] for line in box.run("ip", "netns", "list").stdout.splitlines()
        ]
        assert sorted(namespaces) == ["left", "right"]
        outsider = run_as_nobody(helper)
        assert outsider.returncode != 0 and "PermissionError" in outsider.stderr
        with helper.client() as root_client:
            assert root_client.call("lab.status", {})[0]["lab"] == "veth-namespaces"
            root_client.call("lab.destroy", {"lab": "veth-namespaces"})
    finally:
        helper.stop()
        box.close()
        shutil.rmtree(base, ignore_errors=True)


@needs_root
def test_socket_activation_the_way_systemd_does_it() -> None:
    need("systemd-socket-activate")
    box = Sandbox()
    base = Path(tempfile.mkdtemp(prefix="nstopo-test-"))
    os.chmod(base, 0o755)
    path = base / "activated.sock"
    proc = box.popen(
        "systemd-socket-activate",
        "-l",
        str(path),
        NSTOPO,
        "helper",
        "--state-dir",
        str(base / "state"),
        "--socket",
        str(base / "unused.sock"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(15)
            sock.connect(str(path))
            sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":[1]}}\n')
            reply = json.loads(sock.makefile().readline())
        assert reply["result"]["server"].startswith("nstopo-helper")
        assert not (base / "unused.sock").exists()  # it served the inherited socket
    finally:
        proc.terminate()
        proc.wait(10)
        box.close()
        shutil.rmtree(base, ignore_errors=True)
