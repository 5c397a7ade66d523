"""NAT uplinks and firewalls on the real kernel (issue 17): the sandbox's root namespace
stands in for the host; an "internet" namespace the test makes sits behind its uplink,
with no route back to the lab, so only masqueraded packets get answers."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest
from helper_process import RunningHelper
from nstopo.protocol.errors import RpcError
from sandbox import needs_root, quote

pytestmark = needs_root

INTERNET = "10.99.0.2"
UPLINK = "10.99.0.1"  # the host's address towards the internet

NAT_LAB = """\
nstopo: 1
name: natlab
nodes:
  host:
    kind: host
{nat}
  br-nat:
    kind: bridge
    addresses: [10.50.0.1/24]
  c1:
    kind: netns
    routes:
      - {{to: default, via: 10.50.0.1}}
links:
  - endpoints:
      - {{node: c1, interface: eth0, addresses: [10.50.0.2/24]}}
      - br-nat:veth-c1
"""

# Who connected: the listener prints its peer's address (what the internet sees).
LISTEN = (
    "import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, "
    "socket.SO_REUSEADDR, 1); s.bind(('{addr}', 8080)); s.listen(); s.settimeout(8); "
    "c, peer = s.accept(); print(peer[0], flush=True)"
)
CONNECT = (
    "import socket, sys\n"
    "try:\n"
    "    socket.create_connection(('{addr}', 8080), timeout={timeout}).close()\n"
    "    print('connected')\n"
    "except OSError as exc:\n"
    "    print('failed', exc)\n"
)


@pytest.fixture
def internet(helper: RunningHelper) -> Iterator[RunningHelper]:
    box = helper.sandbox
    for command in (
        "ip netns add internet",
        "ip link add inet-up type veth peer name wan netns internet",
        f"ip addr add {UPLINK}/24 dev inet-up",
        "ip link set inet-up up",
        f"ip -n internet addr add {INTERNET}/24 dev wan",
        "ip -n internet link set wan up",
        "ip -n internet link set lo up",
        # Another tool's table in the host: nstopo must leave it as it is.
        "nft add table inet someone-else",
        "nft add chain inet someone-else keep",
    ):
        box.run(*command.split())
    yield helper
    box.run("ip", "netns", "del", "internet", check=False)


def bash(helper: RunningHelper, script: str) -> str:
    return helper.sandbox.run("bash", "-c", script).stdout


def who_connects(helper: RunningHelper, ns: str, timeout: float = 3) -> tuple[str, str]:
    """(what the client in `ns` says, the peer address the internet saw, or "")."""
    listen = quote("python3", "-c", LISTEN.format(addr=INTERNET))
    connect = quote("python3", "-c", CONNECT.format(addr=INTERNET, timeout=timeout))
    out = bash(
        helper,
        f"ip netns exec internet timeout 10 {listen} > /tmp/peer.txt 2>/dev/null &\n"
        "sleep 0.5\n"
        f"ip netns exec {ns} {connect}\n"
        "kill %1 2>/dev/null; wait; cat /tmp/peer.txt; rm -f /tmp/peer.txt\n",
    )
    lines = out.splitlines()
    return lines[0], (lines[1] if len(lines) > 1 else "")


def host_facts(helper: RunningHelper) -> tuple[str, str]:
    ruleset = helper.sandbox.run("nft", "list", "ruleset").stdout
    forward = helper.sandbox.run("cat", "/proc/sys/net/ipv4/ip_forward").stdout.strip()
    return ruleset, forward


def test_a_host_nat_reaches_the_internet_with_the_uplink_address_then_goes(
    internet: RunningHelper,
) -> None:
    before = host_facts(internet)
    assert before[1] == "0"  # a fresh network namespace forwards nothing
    with internet.client() as client:
        client.call("lab.apply", {"topology": NAT_LAB.format(nat="    nat: [10.50.0.0/24]")})
        ruleset, forward = host_facts(internet)
        assert "table inet nstopo-natlab" in ruleset and "table inet someone-else" in ruleset
        assert forward == "1"
        said, peer = who_connects(internet, "c1")
        assert said == "connected", said
        assert peer == UPLINK  # masqueraded: the internet sees the host's uplink address
        client.call("lab.destroy", {"lab": "natlab"})
    assert host_facts(internet) == before  # the ruleset and ip_forward as they were


def test_without_nat_the_internet_cannot_answer(internet: RunningHelper) -> None:
    internet.sandbox.run("sysctl", "-qw", "net.ipv4.ip_forward=1")  # forwarding alone
    before = host_facts(internet)
    with internet.client() as client:
        client.call("lab.apply", {"topology": NAT_LAB.format(nat="")})
        said, peer = who_connects(internet, "c1", timeout=1.5)
        assert said.startswith("failed"), said
        assert peer == ""  # the SYN arrived from 10.50.0.2, the answer had no way back
        client.call("lab.destroy", {"lab": "natlab"})
    assert host_facts(internet) == before


def test_forwarding_found_on_stays_on_after_destroy(internet: RunningHelper) -> None:
    internet.sandbox.run("sysctl", "-qw", "net.ipv4.ip_forward=1")  # on before the lab
    with internet.client() as client:
        client.call("lab.apply", {"topology": NAT_LAB.format(nat="    nat: [10.50.0.0/24]")})
        client.call("lab.destroy", {"lab": "natlab"})
    assert host_facts(internet)[1] == "1"  # nstopo did not switch it on: it stays


FIREWALL_LAB = """\
nstopo: 1
name: fwlab
nodes:
  gw:
    kind: netns
    sysctls: {{net.ipv4.ip_forward: 1}}
    firewall: |
{rules}
  inside:
    kind: netns
    routes: [{{to: default, via: 10.51.0.1}}]
  outside:
    kind: netns
    routes: [{{to: default, via: 10.51.1.1}}]
links:
  - endpoints:
      - {{node: inside, interface: eth0, addresses: [10.51.0.2/24]}}
      - {{node: gw, interface: in0, addresses: [10.51.0.1/24]}}
  - endpoints:
      - {{node: outside, interface: eth0, addresses: [10.51.1.2/24]}}
      - {{node: gw, interface: out0, addresses: [10.51.1.1/24]}}
"""

# Inside may start connections out; outside only gets answers back in.
ONLY_ESTABLISHED_BACK = """\
table inet filter {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "in0" oifname "out0" accept
  }
}
"""


def pings(helper: RunningHelper, ns: str, address: str) -> bool:
    done = helper.sandbox.run(
        "ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", address, check=False
    )
    return done.returncode == 0


def firewall_lab(rules: str) -> str:
    return FIREWALL_LAB.format(rules=textwrap.indent(rules, " " * 6).rstrip("\n"))


def test_a_firewall_passes_and_drops_what_it_says_and_is_replaced(helper: RunningHelper) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": firewall_lab(ONLY_ESTABLISHED_BACK)})
        loaded = helper.sandbox.run("ip", "netns", "exec", "gw", "nft", "list", "ruleset").stdout
        assert 'iifname "in0" oifname "out0" accept' in loaded
        assert pings(helper, "inside", "10.51.1.2")  # out, and its answer back
        assert not pings(helper, "outside", "10.51.0.2")  # a new connection in: dropped
        # Replaced on change: the same table now lets outside in as well.
        opened = ONLY_ESTABLISHED_BACK.replace('oifname "out0" accept', 'oifname "out0" accept\n'
                                               '    iifname "out0" accept')  # fmt: skip
        result = client.call("lab.apply", {"topology": firewall_lab(opened)})
        assert [step["op"] for step in result["steps"]] == ["nft.load"]
        assert pings(helper, "outside", "10.51.0.2")
        tables = helper.sandbox.run("ip", "netns", "exec", "gw", "nft", "list", "tables").stdout
        assert tables.split() == ["table", "inet", "filter"]  # replaced, not added twice
        client.call("lab.destroy", {"lab": "fwlab"})


def test_a_firewall_error_names_its_line_and_nothing_is_kept(helper: RunningHelper) -> None:
    broken = ONLY_ESTABLISHED_BACK.replace("established,related", "establishd")
    with helper.client() as client, pytest.raises(RpcError) as failed:
        client.call("lab.apply", {"topology": firewall_lab(broken)})
    assert "the firewall's line 4:14: Could not parse conntrack state" in failed.value.message
    assert helper.sandbox.run("ip", "netns", "list").stdout == ""  # rolled back
