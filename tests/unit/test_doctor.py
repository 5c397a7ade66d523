"""The doctor's rules (model/doctor.py, model/doctorlab.py): facts in, findings with
what they break and the exact fix out."""

from __future__ import annotations

import subprocess

from nstopo.model import doctor as d
from nstopo.model.doctorlab import lab_facts
from nstopo.model.yamlfile import parse_text

CLEAN_HOST = d.HostFacts(host=d.Namespace(ip_forward=1, rp_filter={"all": 0, "br0": 0}))
DOCKER = d.ForwardDrop("nft", "ip", "filter", "FORWARD", docker=True)
PLAIN = d.ForwardDrop("nft", "inet", "fw", "fwd")

LAB = """\
nstopo: 1
name: lab
nodes:
  host: {kind: host}
  br0: {kind: bridge, addresses: [10.61.0.1/24]}
  a: {kind: netns, routes: [{to: default, via: 10.61.0.1}]}
  r: {kind: netns}
  c:
    kind: netns
    routes: [{to: 10.63.0.0/24, via: 10.62.0.1}, {to: "fd00:2::/64", via: "fd00::1"}]
  n: {kind: netns, nat: [10.64.0.0/24]}
  m: {kind: netns}
links:
  - endpoints: [{node: a, interface: eth0, addresses: [10.61.0.2/24]}, "br0:p-a"]
  - endpoints:
      - {node: c, interface: eth0, addresses: [10.62.0.2/24, "fd00::2/64"]}
      - {node: r, interface: eth0, addresses: [10.62.0.1/24, "fd00::1/64"]}
  - endpoints:
      - {node: m, interface: eth0, addresses: [10.64.0.2/24]}
      - {node: n, interface: eth0, addresses: [10.64.0.1/24]}
"""


def facts(sysctls: dict[str, d.Namespace] | None = None) -> d.LabFacts:
    return lab_facts(parse_text(LAB, "lab.yaml").topology, sysctls or {})


def test_the_lab_view_names_routers_their_users_and_the_hosts_part() -> None:
    lab = facts()
    assert lab.routers == {"r": ("c",), "n": ("m",)}
    assert lab.routers_v6 == {"r"}
    assert lab.host_bridges == {"br0": ("a",)}
    assert lab.host_routed == {"br0": ("a",)}


def test_a_clean_machine_has_no_findings() -> None:
    ok = d.Namespace(ip_forward=1, ip6_forward=1, rp_filter={"all": 2, "eth0": 0})
    assert d.host_findings(CLEAN_HOST, [facts({"r": ok, "n": ok, "c": ok})]) == []


def test_a_forward_drop_with_br_netfilter_names_the_bridge_and_dockers_chain() -> None:
    host = d.HostFacts(host=CLEAN_HOST.host, bridge_nf_call_iptables=1, forward_drops=(DOCKER,))
    (found,) = d.forward_drop(host, [facts()])
    assert found.title.endswith("(ip filter FORWARD, policy drop): Docker's")
    assert "bridge-nf-call-iptables = 1" in found.breaks
    assert found.fix.splitlines()[0] == "iptables -I DOCKER-USER -i br0 -o br0 -j ACCEPT"
    assert found.affects == (d.Affected("lab", ("a", "br0")),)
    assert d.explains(found.to_json(), "lab", "a", "10.61.0.3")
    assert not d.explains(found.to_json(), "lab", "m", "n")
    assert not d.explains(found.to_json(), "other", "a", "br0")


def test_without_br_netfilter_a_forward_drop_matters_only_to_routed_labs() -> None:
    host = d.HostFacts(host=CLEAN_HOST.host, bridge_nf_call_iptables=0, forward_drops=(PLAIN,))
    assert d.forward_drop(host, []) == []
    (found,) = d.forward_drop(host, [facts()])
    assert "bridge-nf-call-iptables" not in found.breaks
    assert found.affects == (d.Affected("lab", ("a",)),)  # routed by the host, not bridged
    assert 'nft insert rule inet fw fwd iifname "br0" accept' in found.fix
    assert 'nft insert rule inet fw fwd oifname "br0" ct state established,related accept' in (
        found.fix
    )


def test_a_forward_drop_and_no_lab_yet_offers_the_br_netfilter_switch() -> None:
    legacy = d.ForwardDrop("iptables-legacy", "ip", "filter", "FORWARD")
    host = d.HostFacts(host=CLEAN_HOST.host, bridge_nf_call_iptables=1, forward_drops=(legacy,))
    (found,) = d.forward_drop(host, [])
    assert found.fix.startswith("sysctl -w net.bridge.bridge-nf-call-iptables=0")
    assert "iptables-legacy: filter FORWARD" in found.title


def test_strict_rp_filter_counts_on_forwarding_namespaces_only() -> None:
    strict = d.Namespace(ip_forward=1, rp_filter={"all": 1, "eth0": 0, "lo": 1})
    loose_all = d.Namespace(ip_forward=1, rp_filter={"all": 0, "eth0": 2})
    leaf = d.Namespace(ip_forward=0, rp_filter={"all": 1, "eth0": 1})
    found = d.rp_filter(CLEAN_HOST, [facts({"r": strict, "n": loose_all, "m": leaf})])
    assert [f.title for f in found] == ['strict rp_filter on router "r" of lab "lab" (eth0)']
    assert found[0].fix.splitlines()[0] == (
        "ip netns exec r sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2"
    )
    assert found[0].affects == (d.Affected("lab", ("c", "r")),)


def test_forwarding_off_on_a_router_and_on_the_host() -> None:
    off = d.Namespace(ip_forward=0, ip6_forward=0)
    host = d.HostFacts(host=d.Namespace(ip_forward=0))
    found = d.forwarding_off(host, [facts({"r": off, "n": d.Namespace(ip_forward=1)})])
    assert [f.title for f in found] == [
        "forwarding is off on the host",
        'forwarding is off on "r" of lab "lab"',
    ]
    assert found[0].fix == "sysctl -w net.ipv4.ip_forward=1"
    assert found[1].fix.splitlines()[0] == (
        "ip netns exec r sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1"
    )


def test_a_module_is_missing_only_when_the_kernel_tells_so() -> None:
    assert d.module_missing(d.ModuleFacts(in_sys_module=True)) is False
    assert d.module_missing(d.ModuleFacts(config="y", module_support=False)) is False
    assert d.module_missing(d.ModuleFacts(installed=True)) is False
    assert d.module_missing(d.ModuleFacts(config="n")) is True
    assert d.module_missing(d.ModuleFacts(config="m")) is True  # built, not installed
    assert d.module_missing(d.ModuleFacts()) is True  # the lists are there, without it
    unknown = d.ModuleFacts(module_support=False, modules_dir=False)
    assert d.module_missing(unknown) is None
    (found,) = d.missing_modules({"sch_netem": d.ModuleFacts(config="n"), "veth": unknown})
    assert found.title == "the kernel has no sch_netem (CONFIG_NET_SCH_NETEM)"
    assert "netem" in found.breaks


def test_legacy_and_nft_rules_together() -> None:
    both = d.HostFacts(host=CLEAN_HOST.host, nft_rules=3, legacy_rules=5)
    (found,) = d.both_iptables(both)
    assert "iptables-legacy-save | iptables-nft-restore" in found.fix
    assert d.both_iptables(d.HostFacts(host=CLEAN_HOST.host, nft_rules=3, legacy_rules=0)) == []
    assert d.both_iptables(d.HostFacts(host=CLEAN_HOST.host, legacy_rules=4)) == []


def test_client_side_findings() -> None:
    assert d.helper_version("0.3.0", "nstopo-helper 0.3.0") is None
    older = d.helper_version("0.3.0", "nstopo-helper 0.2.9")
    assert older is not None and "0.2.9" in older.title
    assert d.netns_not_shared("/run/netns", True) is None
    assert d.netns_not_shared("/run/netns", False) is not None
    assert d.not_in_group("nstopo", "ann", listed=False).fix.startswith("usermod -aG nstopo ann")
    assert d.not_in_group("nstopo", "ann", listed=True).fix.startswith("newgrp nstopo")
    finding = d.no_helper("/run/nstopo/helper.sock")
    assert d.Finding.from_json(finding.to_json()) == finding


# -- reading the tools' output (backend/doctor.py) --------------------------------------------

# What Docker leaves in `nft -j list ruleset` through iptables-nft (abridged), with a
# lab's own host table beside it.
NFT_JSON = """{"nftables": [{"metainfo": {"version": "1.0.6"}},
 {"table": {"family": "ip", "name": "filter", "handle": 1}},
 {"chain": {"family": "ip", "table": "filter", "name": "FORWARD", "handle": 2,
            "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}},
 {"chain": {"family": "ip", "table": "filter", "name": "DOCKER-USER", "handle": 3}},
 {"rule": {"family": "ip", "table": "filter", "chain": "FORWARD", "handle": 4,
           "expr": [{"jump": {"target": "DOCKER-USER"}}]}},
 {"table": {"family": "inet", "name": "nstopo-lab", "handle": 5}},
 {"chain": {"family": "inet", "table": "nstopo-lab", "name": "fwd", "handle": 6,
            "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}},
 {"rule": {"family": "inet", "table": "nstopo-lab", "chain": "fwd", "handle": 7,
           "expr": [{"accept": null}]}}]}"""

LEGACY_SAVE = """\
# Generated by iptables-save v1.8.9 (legacy)
*nat
:PREROUTING ACCEPT [0:0]
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A DOCKER-USER -j RETURN
COMMIT
"""


def test_nft_json_gives_the_dropping_forward_chains_and_others_rules() -> None:
    from nstopo.backend.doctor import parse_nft

    drops, rules = parse_nft(NFT_JSON, {"nstopo-lab"})
    assert drops == [d.ForwardDrop("nft", "ip", "filter", "FORWARD", docker=True)]
    assert rules == 1  # the lab's own table is not counted
    assert parse_nft('{"nftables": [{"metainfo": {}}]}', set()) == ([], 0)


def test_legacy_save_gives_a_forward_drop_and_the_rule_count() -> None:
    from nstopo.backend.doctor import parse_legacy

    drops, rules = parse_legacy(LEGACY_SAVE, "iptables-legacy", "ip")
    assert drops == [d.ForwardDrop("iptables-legacy", "ip", "filter", "FORWARD", docker=True)]
    assert rules == 3
    (found,) = d.forward_drop(d.HostFacts(host=CLEAN_HOST.host, bridge_nf_call_iptables=1,
                                          forward_drops=tuple(drops)), [facts()])  # fmt: skip
    assert found.fix.splitlines()[0] == "iptables-legacy -I DOCKER-USER -i br0 -o br0 -j ACCEPT"
    assert parse_legacy(LEGACY_SAVE.replace("FORWARD DROP", "FORWARD ACCEPT"), "x", "ip")[0] == []


def test_a_bridge_family_drop_matches_the_bridge_and_ignores_routing() -> None:
    drop = d.ForwardDrop("nft", "bridge", "filter", "forward")
    (found,) = d.forward_drop(d.HostFacts(host=CLEAN_HOST.host, forward_drops=(drop,)), [facts()])
    assert (
        found.fix
        == 'nft insert rule bridge filter forward meta ibrname "br0" meta obrname "br0" accept'
    )
    assert "routes" not in found.breaks
    assert found.affects == (d.Affected("lab", ("a", "br0")),)


def test_br_netfilter_for_ipv6_only_does_not_make_an_ipv4_chain_see_bridges() -> None:
    host = d.HostFacts(host=CLEAN_HOST.host, bridge_nf_call_ip6tables=1, forward_drops=(PLAIN,))
    assert [f.fix.splitlines()[0] for f in d.forward_drop(host, [])] == [
        "sysctl -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0"
    ]  # inet sees IPv6 bridged frames
    v4_only = d.ForwardDrop("nft", "ip", "filter", "FORWARD")
    host = d.HostFacts(host=CLEAN_HOST.host, bridge_nf_call_ip6tables=1, forward_drops=(v4_only,))
    assert d.forward_drop(host, []) == []


def test_the_socket_group_names_the_group_and_whether_only_the_login_lacks_it(
    tmp_path,
) -> None:
    import grp
    import os
    import pwd

    import pytest
    from nstopo.cli.doctor_cmd import _group_finding

    me = pwd.getpwuid(os.getuid())
    socket = tmp_path / "helper.sock"
    socket.write_text("")
    own = _group_finding(str(socket))  # the user's own primary group: listed
    assert own is not None and own.fix.startswith(f"newgrp {grp.getgrgid(me.pw_gid).gr_name}")
    assert _group_finding(str(tmp_path / "missing.sock")) is None
    if os.geteuid() != 0:
        pytest.skip("giving the file another group needs root")
    other = next(g for g in grp.getgrall() if me.pw_name not in g.gr_mem and g.gr_gid != me.pw_gid)
    os.chown(socket, -1, other.gr_gid)
    found = _group_finding(str(socket))
    assert found is not None
    assert found.title == f'"{me.pw_name}" is not in the helper\'s group "{other.gr_name}"'
    assert found.fix.startswith(f"usermod -aG {other.gr_name} {me.pw_name}")


def test_dockers_chain_is_fixed_with_the_tool_and_family_that_hold_it() -> None:
    lab = [facts()]
    for drop, tool in (
        (DOCKER, "iptables -I DOCKER-USER"),
        (d.ForwardDrop("nft", "ip6", "filter", "FORWARD", docker=True), "ip6tables -I"),
        (d.ForwardDrop("iptables-legacy", "ip", "filter", "FORWARD", True), "iptables-legacy -I"),
        (d.ForwardDrop("ip6tables-legacy", "ip6", "filter", "FORWARD", True), "ip6tables-legacy"),
    ):
        host = d.HostFacts(
            host=CLEAN_HOST.host, bridge_nf_call_iptables=1, bridge_nf_call_ip6tables=1,
            forward_drops=(drop,),
        )  # fmt: skip
        (found,) = [f for f in d.host_findings(host, lab) if f.check == "forward-drop"]
        assert found.fix.startswith(tool), found.fix


def test_a_ruleset_that_could_not_be_read_is_said_not_taken_for_empty() -> None:
    host = d.HostFacts(host=CLEAN_HOST.host, nft_error="nft is not installed")
    (found,) = d.host_findings(host, [])
    assert found.check == "firewall-unread" and "nft is not installed" in found.title


def test_without_nf_tables_in_the_kernel_nft_is_never_asked(monkeypatch) -> None:
    """nft's first request would load nf_tables (global to the machine): the doctor
    reads no ruleset then, and says nothing about one."""
    from nstopo.backend import doctor as helper_doctor

    def refuse(*args, **kwargs):
        raise AssertionError(f"ran {args[0]}")

    monkeypatch.setattr(helper_doctor.subprocess, "run", refuse)
    absent = d.ModuleFacts(installed=True)  # loadable on demand, not loaded
    assert helper_doctor.nft_facts(set(), absent) == ([], 0, None)

    # With nf_tables there, a failing nft is said (not taken for an empty ruleset).
    def refused(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1, "", "Error: Operation not permitted\n")

    monkeypatch.setattr(helper_doctor.subprocess, "run", refused)
    monkeypatch.setattr(helper_doctor.shutil, "which", lambda name: f"/usr/sbin/{name}")
    loaded = d.ModuleFacts(in_sys_module=True, loaded=True)
    drops, rules, error = helper_doctor.nft_facts(set(), loaded)
    assert (drops, rules) == ([], 0)
    assert error == "nft -j list ruleset: Error: Operation not permitted"
