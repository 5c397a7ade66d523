"""`nstopo doctor` and `host.doctor` on the real kernel (issue 17): what it finds is
planted in the sandbox (its own network namespace, standing in for the host), never on
the machine; on a clean sandbox it finds none of it."""

from __future__ import annotations

import json
import os
import subprocess

from helper_process import NSTOPO, RunningHelper
from nstopo.protocol.check import conforms
from nstopo.protocol.messages import DoctorResult
from sandbox import needs_root
from test_nat_firewall import pings

pytestmark = needs_root

# a and b on a bridge in the host namespace, routed by the host; c routes via r.
LAB = """\
nstopo: 1
name: doclab
nodes:
  host: {kind: host}
  br0: {kind: bridge, addresses: [10.61.0.1/24]}
  a:
    kind: netns
    routes: [{to: default, via: 10.61.0.1}]
  b:
    kind: netns
    routes: [{to: default, via: 10.61.0.1}]
  r:
    kind: netns
    sysctls: {%s}
  c:
    kind: netns
    routes: [{to: 10.63.0.0/24, via: 10.62.0.1}]
links:
  - endpoints: [{node: a, interface: eth0, addresses: [10.61.0.2/24]}, "br0:p-a"]
  - endpoints: [{node: b, interface: eth0, addresses: [10.61.0.3/24]}, "br0:p-b"]
  - endpoints:
      - {node: c, interface: eth0, addresses: [10.62.0.2/24]}
      - {node: r, interface: eth0, addresses: [10.62.0.1/24]}
"""
CLEAN = LAB % "net.ipv4.ip_forward: 1"
BROKEN = LAB % "net.ipv4.conf.all.rp_filter: 1"  # routes for c, forwards nothing


def doctor(helper: RunningHelper) -> tuple[int, list[dict]]:
    """`nstopo doctor --json` run inside the sandbox (so its /run/netns is the helper's)."""
    env = ["env", f"NSTOPO_SOCKET={helper.socket}"]
    done = subprocess.run(helper.sandbox.command(*env, NSTOPO, "doctor", "--json"),
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    findings = json.loads(done.stdout)
    assert done.returncode == (1 if findings else 0)
    return done.returncode, findings


def checks(findings: list[dict]) -> set[str]:
    return {f["check"] for f in findings}


def test_a_clean_sandbox_has_no_forward_drop_rp_filter_or_forwarding_finding(
    helper: RunningHelper,
) -> None:
    with helper.client() as client:
        answer = client.call("host.doctor")
        assert conforms(DoctorResult, answer) == []
        client.call("lab.apply", {"topology": CLEAN})
        assert pings(helper, "a", "10.61.0.3")  # the host bridge passes
        _, findings = doctor(helper)
        # a and b route via the host, which does not forward (a new namespace's default).
        (off,) = [f for f in findings if f["check"] == "forwarding-off"]
        assert off["title"] == "forwarding is off on the host"
        assert off["fix"] == "sysctl -w net.ipv4.ip_forward=1"
        assert off["affects"] == [{"lab": "doclab", "nodes": ["a", "b"]}]
        helper.sandbox.run("sysctl", "-qw", "net.ipv4.ip_forward=1")
        _, findings = doctor(helper)
        # Modules are the machine's (this kernel may lack netem): nothing else is found.
        assert checks(findings) <= {"module"}, findings
        client.call("lab.destroy", {"lab": "doclab"})


def test_the_doctor_finds_a_forward_drop_and_strict_rp_filter_planted_in_the_sandbox(
    helper: RunningHelper,
) -> None:
    box = helper.sandbox
    bridged = box.run("cat", "/proc/sys/net/bridge/bridge-nf-call-iptables", check=False)
    with helper.client() as client:
        client.call("lab.apply", {"topology": BROKEN})
        assert pings(helper, "a", "10.61.0.3")
        # Docker's FORWARD chain, as iptables-nft makes it, and a strict forwarding host.
        box.run("nft", "add", "table", "ip", "filter")
        box.run("nft", "add chain ip filter FORWARD { type filter hook forward priority 0; "
                "policy drop; }")  # fmt: skip
        box.run("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=1")
        code, findings = doctor(helper)
        assert code == 1
        by_check = {f["check"]: f for f in findings if f["check"] != "module"}
        assert set(by_check) == {"forward-drop", "rp-filter", "forwarding-off"}, findings
        drop = by_check["forward-drop"]
        assert "ip filter FORWARD, policy drop" in drop["title"]
        assert 'nft insert rule ip filter FORWARD iifname "br0"' in drop["fix"]
        assert {"lab": "doclab", "nodes": ["a", "b", "br0"]} in drop["affects"]
        if bridged.stdout.strip() == "1":  # br_netfilter: the drop really stops the bridge
            assert not pings(helper, "a", "10.61.0.3")
            assert "bridge-nf-call-iptables" in drop["breaks"]
        rp = [f for f in findings if f["check"] == "rp-filter"]
        titles = sorted(f["title"] for f in rp)
        assert titles == ['strict rp_filter on router "r" of lab "doclab" (eth0)',
                          "strict rp_filter on the host's br0"], titles  # fmt: skip
        assert "ip netns exec r sysctl -w net.ipv4.conf.all.rp_filter=2" in "".join(
            f["fix"] for f in rp
        )
        off = by_check["forwarding-off"]
        assert off["title"] == 'forwarding is off on "r" of lab "doclab"'
        assert off["fix"].startswith("ip netns exec r sysctl -w net.ipv4.ip_forward=1")
        assert off["affects"] == [{"lab": "doclab", "nodes": ["c", "r"]}]
        # The fix it gives for the drop, run as given, lets the bridge pass again.
        for line in drop["fix"].splitlines():
            if "oifname" in line and "br0" in line and "ct state" not in line:
                box.run("bash", "-c", line)
        assert pings(helper, "a", "10.61.0.3")
        # The doctor read and changed nothing: the planted state is still there.
        assert box.run("sysctl", "-n", "net.ipv4.conf.all.rp_filter").stdout.strip() == "1"
        assert "policy drop" in box.run("nft", "list", "chain", "ip", "filter", "FORWARD").stdout
        client.call("lab.destroy", {"lab": "doclab"})


def test_a_helper_in_another_mount_namespace_is_reported(helper: RunningHelper) -> None:
    """Run from outside the sandbox, the client's /run/netns is not the helper's."""
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    done = subprocess.run([NSTOPO, "doctor"], capture_output=True, text=True, env=env,
                          timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert "the helper's /run/netns is not this machine's /run/netns" in done.stdout
    assert "fix:" in done.stdout
