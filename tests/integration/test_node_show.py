"""`nstopo show` and `node.show` against iproute2 and nft run by hand in the same
namespace (issue 17)."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from helper_process import NSTOPO, RunningHelper
from nstopo.protocol.errors import RpcError
from sandbox import needs_root
from test_nat_firewall import ONLY_ESTABLISHED_BACK, firewall_lab, pings

pytestmark = needs_root


def show(helper: RunningHelper, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
    return subprocess.run([NSTOPO, "show", "fwlab", *args], capture_output=True, text=True,
                          env=env, timeout=30)  # fmt: skip


def by_hand(helper: RunningHelper, ns: str, *argv: str) -> str:
    return helper.sandbox.run("ip", "netns", "exec", ns, *argv).stdout


def test_show_prints_what_iproute2_and_nft_print_there(helper: RunningHelper) -> None:
    with helper.client() as client:
        client.call("lab.apply", {"topology": firewall_lab(ONLY_ESTABLISHED_BACK)})
        assert pings(helper, "inside", "10.51.1.2")  # fills the neighbour tables
        helper.sandbox.run("ip", "-n", "gw", "rule", "add", "from", "10.51.0.9", "table", "7")
        helper.sandbox.run("ip", "-n", "gw", "route", "add", "10.52.0.0/24", "via",
                           "10.51.1.2", "table", "7")  # fmt: skip
        # The kernel may still add routes as links come up (a loaded machine): the same
        # moment is when a read by hand before and after nstopo's agree.
        deadline = time.monotonic() + 10
        while True:
            before = by_hand(helper, "gw", "ip", "-4", "route", "show", "table", "all")
            routes = show(helper, "gw", "routes")
            v4 = by_hand(helper, "gw", "ip", "-4", "route", "show", "table", "all")
            if before == v4 or time.monotonic() > deadline:
                break
        assert routes.returncode == 0, routes.stderr
        assert routes.stdout.startswith(v4)
        # IPv6 link-local routes still appear as the links finish coming up: read later,
        # `ip -6` holds every line nstopo showed.
        v6 = by_hand(helper, "gw", "ip", "-6", "route", "show", "table", "all")
        assert set(routes.stdout[len(v4) :].splitlines()) <= set(v6.splitlines())
        assert "local ::1 dev lo table local" in routes.stdout[len(v4) :]
        assert "::1" not in v4  # each route once: the IPv4 part holds no IPv6 routes
        assert "10.52.0.0/24 via 10.51.1.2 dev out0 table 7" in routes.stdout  # all tables
        rules = show(helper, "gw", "rules").stdout
        assert "from 10.51.0.9 lookup 7" in rules
        assert rules.startswith(by_hand(helper, "gw", "ip", "rule", "show"))
        neigh = show(helper, "inside", "neigh").stdout
        assert neigh == by_hand(helper, "inside", "ip", "neigh", "show")
        assert "10.51.0.1 dev eth0 lladdr" in neigh
        firewall = show(helper, "gw", "firewall").stdout
        assert firewall == by_hand(helper, "gw", "nft", "list", "ruleset")
        assert "ct state established,related accept" in firewall
        everything = show(helper, "gw").stdout
        assert "# routes (ip -4 route show table all; ip -6 route show table all)" in everything
        assert "# firewall (nft list ruleset)" in everything
        answer = client.call("node.show", {"lab": "fwlab", "node": "gw", "sections": ["routes"]})
        entries = answer["sections"]["routes"]["entries"]
        assert {"dst": "10.52.0.0/24", "gateway": "10.51.1.2"}.items() <= next(
            e for e in entries if e.get("dst") == "10.52.0.0/24"
        ).items()
        with pytest.raises(RpcError, match='has no node "nowhere"'):
            client.call("node.show", {"lab": "fwlab", "node": "nowhere"})
        client.call("lab.destroy", {"lab": "fwlab"})
    gone = show(helper, "gw")
    assert gone.returncode == 1 and 'no running lab "fwlab"' in gone.stderr
