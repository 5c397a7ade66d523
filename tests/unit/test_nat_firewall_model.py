"""The `nat:` and `firewall:` keys without a kernel: reading, saving, planning, placing
nft's errors (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest
from nstopo.backend import nft
from nstopo.cli.firewallcheck import firewall_problems
from nstopo.model import steps as s
from nstopo.model.nftables import nft_errors
from nstopo.model.plan import diff, plan_down, plan_up
from nstopo.model.types import NatRule
from nstopo.model.yamlfile import dumps, parse_text

LAB = """\
nstopo: 1
name: nt
nodes:
  host:
    kind: host
    nat: [10.50.0.0/24]   # the short form
  gw:
    kind: netns
    sysctls: {net.ipv4.ip_forward: 1}
    nat: [{from: 10.60.0.0/24, out: wan0}]
    firewall: |
      table inet filter {
        chain forward {
          type filter hook forward priority 0; policy drop;
          ct state established accept
        }
      }
"""


def test_both_nat_forms_read_and_save_as_written() -> None:
    loaded = parse_text(LAB, "lab.yaml")
    assert loaded.problems == []
    topo = loaded.topology
    assert topo.get_node("host").nat == (NatRule("10.50.0.0/24"),)
    assert topo.get_node("gw").nat == (NatRule("10.60.0.0/24", "wan0"),)
    assert dumps(topo, loaded) == LAB  # untouched: byte for byte
    fresh = dumps(parse_text(LAB).topology)  # written anew, from the values alone
    again = parse_text(fresh).topology
    assert [again.get_node(n) for n in ("host", "gw")] == [topo.get_node(n) for n in ("host", "gw")]
    assert "nat: [10.50.0.0/24]" in fresh and "from: 10.60.0.0/24" in fresh
    assert "firewall: |" in fresh  # a ruleset stays a readable block


def test_the_plan_loads_rulesets_last_and_takes_them_away() -> None:
    topo = parse_text(LAB).topology
    up = list(plan_up(topo))
    loads = [step for step in up if isinstance(step, s.LoadRuleset)]
    assert up[-len(loads) :] == loads and {step.ns for step in loads} == {"gw", None}
    gw = next(step for step in loads if step.ns == "gw")
    assert gw.command().startswith("ip netns exec gw nft -f - <<'NFT'\nflush ruleset\n")
    assert 'ip saddr 10.60.0.0/24 oifname "wan0" masquerade' in gw.text
    host = next(step for step in loads if step.ns is None)
    assert host.text.startswith("table inet nstopo-nt\ndelete table inet nstopo-nt\n")
    assert "ip saddr 10.50.0.0/24 ip daddr != 10.50.0.0/24 masquerade" in host.text
    down = [step.command() for step in plan_down(topo)]
    assert "nft delete table inet nstopo-nt" in down
    assert not any("flush ruleset" in c for c in down)  # gw's rules go with gw itself
    no_firewall = parse_text(LAB.split("    firewall:")[0]).topology
    change = list(diff(topo, no_firewall))
    assert [type(step) for step in change] == [s.LoadRuleset]  # replaced in one go
    assert "table inet filter" not in change[0].text


def test_nat_problems_are_placed() -> None:
    bad = LAB.replace("10.60.0.0/24, out: wan0", "10.60.0.0/99, out: wan0")
    bad = bad.replace("{net.ipv4.ip_forward: 1}", "{}")
    problems = parse_text(bad, "lab.yaml").problems
    lines = sorted(p.format() for p in problems)
    assert any("lab.yaml:10:11: error: nat source" in line for line in lines), lines
    assert any('warning: node "gw" masquerades but does not forward' in ln for ln in lines)


def test_nft_error_lines_are_read() -> None:
    text = "/dev/stdin:4:14-23: Error: Could not parse conntrack state\n  x\n  ^^^\n"
    (found,) = nft_errors(text)
    assert (found.line, found.col, found.message) == (4, 14, "Could not parse conntrack state")
    assert found.in_firewall().line == 3
    assert nft_errors("Error: Could not process rule: No such file\n")[0].line == 0


def test_validate_places_an_nft_error_inside_the_block(tmp_path: Path) -> None:
    broken = LAB.replace("ct state established", "ct state establishd")
    loaded = parse_text(broken, "lab.yaml")
    if nft.check("table inet t {}\n") is None:
        pytest.skip("nft cannot check rulesets here (no nft or no user namespaces)")
    (problem,) = firewall_problems(loaded)
    assert (problem.line, problem.col) == (15, 20)  # the line and column of `establishd`
    assert broken.splitlines()[14][19:].startswith("establishd")
    assert firewall_problems(parse_text(LAB, "lab.yaml")) == []
