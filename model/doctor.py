"""The doctor's rules: what on a machine silently breaks labs, what it breaks and the
command that fixes it (`nstopo doctor`, the editor's helper bar, the ping panel).

Pure and standard library only (the CLI's fast commands load it): the facts are read
elsewhere (the helper reads the machine: backend/doctor.py; the client what only it
can see: its groups, its /run/netns, the helper's version) and turned into findings
here. A finding names the labs and nodes whose traffic it affects, so a failed ping
between them can show it.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# What each kernel module nstopo relies on builds, and its config symbol.
MODULES: dict[str, tuple[str, str]] = {
    "veth": ("CONFIG_VETH", "every link (a link is a veth pair)"),
    "bridge": ("CONFIG_BRIDGE", "bridge nodes"),
    "tun": ("CONFIG_TUN", "tap and tun nodes"),
    "sch_netem": ("CONFIG_NET_SCH_NETEM", "netem: impairments (delay, loss, rate) on links"),
    "nf_nat": ("CONFIG_NF_NAT", "nat: (masquerading)"),
    "nf_tables": ("CONFIG_NF_TABLES", "nat: and firewall: (nftables)"),
}


@dataclass(frozen=True)
class Affected:
    lab: str
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    check: str  # a stable name: forward-drop, rp-filter, forwarding-off, module, ...
    title: str  # one line
    breaks: str  # what it breaks, in a sentence or two
    fix: str  # the exact command(s), one a line
    affects: tuple[Affected, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "title": self.title,
            "breaks": self.breaks,
            "fix": self.fix,
            "affects": [{"lab": a.lab, "nodes": list(a.nodes)} for a in self.affects],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        affects = tuple(Affected(a["lab"], tuple(a["nodes"])) for a in data.get("affects", ()))
        return cls(data["check"], data["title"], data["breaks"], data["fix"], affects)


def explains(finding: Mapping[str, Any], lab: str, source: str, target: str) -> bool:
    """Could this finding (as JSON) be why a ping from `source` to `target` in `lab`
    got no answer? Only findings about nodes on that path say so."""
    for affected in finding.get("affects", ()):
        if affected["lab"] == lab and {source, target} & set(affected["nodes"]):
            return True
    return False


# -- the facts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForwardDrop:
    """A chain on the forward hook whose policy drops."""

    tool: str  # "nft" (also iptables-nft's tables) | "iptables-legacy" | "ip6tables-legacy"
    family: str  # nft: ip, ip6, inet, bridge; legacy: ip, ip6
    table: str
    chain: str
    docker: bool = False  # the table has Docker's DOCKER-USER chain


@dataclass(frozen=True)
class ModuleFacts:
    in_sys_module: bool = False  # /sys/module/NAME
    loaded: bool = False  # /proc/modules
    builtin: bool = False  # modules.builtin
    installed: bool = False  # modules.dep: loadable on demand
    config: str | None = None  # y, m or n from /proc/config.gz; None: not known
    module_support: bool = True  # /proc/modules exists
    modules_dir: bool = True  # /lib/modules/$(uname -r) exists


def module_missing(facts: ModuleFacts) -> bool | None:
    """True: the kernel cannot have it; False: it has it (or loads it on demand);
    None: nothing here tells (no config, no module lists)."""
    if facts.in_sys_module or facts.loaded or facts.builtin or facts.installed:
        return False
    if facts.config == "y":
        return False
    if facts.config == "n":
        return True
    if facts.config == "m":  # a module, and not installed: nothing to load
        return True
    if facts.modules_dir and facts.module_support:
        return True  # the lists are there and do not name it
    return None


@dataclass(frozen=True)
class Namespace:
    """Routing sysctls as read in one namespace."""

    ip_forward: int = 0
    ip6_forward: int = 0
    rp_filter: Mapping[str, int] = field(default_factory=dict)  # "all" and each interface


@dataclass(frozen=True)
class HostFacts:
    host: Namespace
    bridge_nf_call_iptables: int | None = None  # None: br_netfilter is not there
    bridge_nf_call_ip6tables: int | None = None
    forward_drops: tuple[ForwardDrop, ...] = ()
    nft_rules: int = 0  # rules in tables not nstopo's own
    legacy_rules: int | None = None  # None: legacy iptables not readable here
    modules: Mapping[str, ModuleFacts] = field(default_factory=dict)
    nft_error: str | None = None  # why the nftables ruleset could not be read


@dataclass(frozen=True)
class LabFacts:
    """A running lab: where it relies on the machine, and its nodes' live sysctls."""

    lab: str
    host_bridges: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # -> on it
    host_routed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # iface -> nodes
    host_forwards_v6: bool = False
    routers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # node -> through it
    routers_v6: frozenset[str] = frozenset()  # of those, the ones routing IPv6
    nodes: Mapping[str, Namespace] = field(default_factory=dict)  # netns node -> sysctls


# -- the rules over what the helper reads ---------------------------------------------------


def host_findings(facts: HostFacts, labs: list[LabFacts]) -> list[Finding]:
    found = forward_drop(facts, labs)
    found += rp_filter(facts, labs)
    found += forwarding_off(facts, labs)
    found += missing_modules(facts.modules)
    found += both_iptables(facts)
    found += firewall_unread(facts)
    return found


def firewall_unread(facts: HostFacts) -> list[Finding]:
    """A ruleset the doctor could not read is said, not taken for an empty one."""
    if facts.nft_error is None:
        return []
    return [
        Finding(
            "firewall-unread",
            f"the host's nftables ruleset could not be read: {facts.nft_error}",
            "A forward chain that drops (Docker's, a distribution's firewall) would go "
            "unnoticed: the findings above do not cover the host's firewall.",
            "nft list ruleset\n# as root, to see it and why it fails; apt install nftables "
            "when nft is missing",
        )
    ]


def _effective_strict(ns: Namespace, interfaces: list[str] | None = None) -> list[str]:
    """Interfaces where rp_filter is strict: the kernel takes max(all, interface)."""
    every = ns.rp_filter.get("all", 0)
    names = interfaces if interfaces is not None else list(ns.rp_filter)
    return sorted(
        name
        for name in names
        if name not in ("all", "default", "lo")
        and name in ns.rp_filter
        and max(every, ns.rp_filter[name]) == 1
    )


def _q(name: str) -> str:
    return '"' + name.replace('"', "") + '"'


def _accept(drop: ForwardDrop, match: str, legacy: str) -> str:
    """A rule that accepts `match` ahead of the drop, in the tool that holds the chain."""
    if drop.docker:  # Docker's own place for rules of ours, in the tool that holds it
        iptables = "ip6tables" if drop.family == "ip6" else "iptables"  # iptables-nft's
        tool = drop.tool if drop.tool != "nft" else iptables
        return f"{tool} -I DOCKER-USER {legacy} -j ACCEPT"
    if drop.tool != "nft":
        return f"{drop.tool.removesuffix('-legacy')}-legacy -I {drop.chain} {legacy} -j ACCEPT"
    return f"nft insert rule {drop.family} {drop.table} {shlex.quote(drop.chain)} {match} accept"


def forward_drop(facts: HostFacts, labs: list[LabFacts]) -> list[Finding]:
    found = []
    v4 = facts.bridge_nf_call_iptables == 1  # br_netfilter hands bridged IPv4 to iptables
    v6 = facts.bridge_nf_call_ip6tables == 1
    for drop in facts.forward_drops:
        sees_bridged = (
            drop.family == "bridge"
            or (drop.family in ("ip", "inet") and v4)
            or (drop.family in ("ip6", "inet") and v6)
        )
        routed = drop.family != "bridge"  # the bridge family sees frames, not routing
        affects, fixes = [], []
        bridges = sorted({b for lab in labs for b in lab.host_bridges})
        for lab in labs:
            nodes: set[str] = set()
            for nodes_of in lab.host_routed.values() if routed else ():
                nodes.update(nodes_of)
            if sees_bridged:
                for bridge, on in lab.host_bridges.items():
                    nodes.update((bridge, *on))
            if nodes:
                affects.append(Affected(lab.lab, tuple(sorted(nodes))))
        if sees_bridged:
            for bridge in bridges:
                match = f"iifname {_q(bridge)} oifname {_q(bridge)}"
                if not routed:  # in the bridge family the in/out names are the ports
                    match = f"meta ibrname {_q(bridge)} meta obrname {_q(bridge)}"
                fixes.append(_accept(drop, match, f"-i {bridge} -o {bridge}"))
        for iface in sorted({i for lab in labs for i in lab.host_routed} if routed else ()):
            fixes.append(_accept(drop, f"iifname {_q(iface)}", f"-i {iface}"))
            fixes.append(
                _accept(
                    drop,
                    f"oifname {_q(iface)} ct state established,related",
                    f"-o {iface} -m conntrack --ctstate ESTABLISHED,RELATED",
                )
            )
        if not affects and not sees_bridged:
            continue  # only routed traffic meets it, and no lab routes through the host
        if not fixes:  # no lab uses a host bridge yet: the switch that spares them all
            fixes.append(
                "sysctl -w net.bridge.bridge-nf-call-iptables=0 "
                "net.bridge.bridge-nf-call-ip6tables=0"
            )
        where = f"{drop.family} {drop.table} {drop.chain}"
        if drop.tool != "nft":
            where = f"{drop.tool}: {drop.table} {drop.chain}"
        breaks = []
        if sees_bridged:
            breaks.append(
                "frames between the ports of a bridge in the host namespace pass through "
                "it (br_netfilter, net.bridge.bridge-nf-call-iptables = 1), so nodes on a "
                "host bridge cannot reach each other"
                if drop.family != "bridge"
                else "frames between the ports of a bridge in the host namespace are dropped"
            )
        if routed:
            breaks.append(
                "packets the host routes for a lab (host nat:, routes via the host) are dropped"
            )
        title = f"the host's forward chain drops ({where}, policy drop)"
        if drop.docker:
            title += ": Docker's"
        found.append(
            Finding(
                "forward-drop",
                title,
                _sentence("; ".join(breaks)),
                "\n".join(fixes),
                tuple(affects),
            )
        )
    return found


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _sysctl_fix(ns: str | None, assignments: list[str]) -> str:
    command = "sysctl -w " + " ".join(assignments)
    return command if ns is None else f"ip netns exec {shlex.quote(ns)} {command}"


def rp_filter(facts: HostFacts, labs: list[LabFacts]) -> list[Finding]:
    found = []
    breaks = (
        "a packet that arrives on an interface the route back to its source does not "
        "leave by (asymmetric paths, two uplinks, a source reachable another way) is "
        "dropped without an error: a ping through it gets no answer."
    )
    host_ifaces = sorted({i for lab in labs for i in (*lab.host_routed, *lab.host_bridges)})
    strict = _effective_strict(facts.host, host_ifaces) if facts.host.ip_forward else []
    if strict:
        settings = [f"net.ipv4.conf.{i}.rp_filter=2" for i in ("all", *strict)]
        affects = [
            Affected(lab.lab, tuple(sorted({n for v in lab.host_routed.values() for n in v})))
            for lab in labs
            if set(lab.host_routed) & set(strict)
        ]
        found.append(
            Finding(
                "rp-filter",
                f"strict rp_filter on the host's {', '.join(strict)}",
                "The host forwards, and " + breaks,
                _sysctl_fix(None, settings),
                tuple(affects),
            )
        )
    for lab in labs:
        for node, ns in sorted(lab.nodes.items()):
            if node not in lab.routers and not ns.ip_forward:
                continue
            strict = _effective_strict(ns)
            if not strict:
                continue
            settings = [f"net.ipv4.conf.{i}.rp_filter=2" for i in ("all", *strict)]
            keys = ", ".join(f"{s.split('=')[0]}: 2" for s in settings)
            found.append(
                Finding(
                    "rp-filter",
                    f'strict rp_filter on router "{node}" of lab "{lab.lab}" ({", ".join(strict)})',
                    f'"{node}" routes, and ' + breaks,
                    f"{_sysctl_fix(node, settings)}\n# or in the file, on {node}: "
                    f"sysctls: {{{keys}}}",
                    (Affected(lab.lab, tuple(sorted({node, *lab.routers.get(node, ())}))),),
                )
            )
    return found


def forwarding_off(facts: HostFacts, labs: list[LabFacts]) -> list[Finding]:
    found = []
    host_users: list[Affected] = []
    host_v6 = False
    for lab in labs:
        users = sorted({n for v in lab.host_routed.values() for n in v})
        if users:
            host_users.append(Affected(lab.lab, tuple(users)))
            host_v6 = host_v6 or lab.host_forwards_v6
    off = []
    if host_users and not facts.host.ip_forward:
        off.append("net.ipv4.ip_forward=1")
    if host_users and host_v6 and not facts.host.ip6_forward:
        off.append("net.ipv6.conf.all.forwarding=1")
    if off:
        labs_named = ", ".join(sorted(a.lab for a in host_users))
        found.append(
            Finding(
                "forwarding-off",
                "forwarding is off on the host",
                f"Lab {labs_named} routes through the host (host nat: or routes "
                "via it), but the host does not forward: those packets are "
                "dropped.",
                _sysctl_fix(None, off),
                tuple(host_users),
            )
        )
    for lab in labs:
        for node, users in sorted(lab.routers.items()):
            ns = lab.nodes.get(node)
            if ns is None:
                continue
            off = [] if ns.ip_forward else ["net.ipv4.ip_forward=1"]
            if node in lab.routers_v6 and not ns.ip6_forward:
                off.append("net.ipv6.conf.all.forwarding=1")
            if not off:
                continue
            keys = ", ".join(f"{s.split('=')[0]}: 1" for s in off)
            found.append(
                Finding(
                    "forwarding-off",
                    f'forwarding is off on "{node}" of lab "{lab.lab}"',
                    f'{", ".join(users)} route through "{node}", which does not forward: '
                    "their packets stop there.",
                    f"{_sysctl_fix(node, off)}\n# or in the file, on {node}: sysctls: {{{keys}}}",
                    (Affected(lab.lab, tuple(sorted({node, *users}))),),
                )
            )
    return found


def missing_modules(modules: Mapping[str, ModuleFacts]) -> list[Finding]:
    found = []
    for name, facts in sorted(modules.items()):
        if module_missing(facts) is not True:
            continue
        symbol, needed_by = MODULES.get(name, (f"the {name} module", "labs"))
        found.append(
            Finding(
                "module",
                f"the kernel has no {name} ({symbol})",
                f"It is neither built in nor installed as a module, so {needed_by} cannot "
                "be made: an apply that needs it fails at that step.",
                "apt install linux-image-$(dpkg --print-architecture)\n# a kernel built "
                f"with {symbol}, then reboot into it"
                if facts.config == "n" or not facts.modules_dir
                else f"apt install linux-modules-extra-$(uname -r)\n# installs {name}.ko (Ubuntu)",
            )
        )
    return found


def both_iptables(facts: HostFacts) -> list[Finding]:
    if not facts.legacy_rules or not facts.nft_rules:
        return []
    return [
        Finding(
            "iptables-both",
            f"legacy iptables ({facts.legacy_rules} rules) and nftables "
            f"({facts.nft_rules} rules) both filter",
            "Every packet passes both rule sets; `iptables` (nft) and `nft list ruleset` do "
            "not show the legacy rules, so a drop there is invisible to the usual tools.",
            "iptables-legacy-save | iptables-nft-restore && iptables-legacy -F && "
            "iptables-legacy -X\n"
            "ip6tables-legacy-save | ip6tables-nft-restore && ip6tables-legacy -F && "
            "ip6tables-legacy -X",
        )
    ]


# -- the rules over what only the client sees ------------------------------------------------


def helper_version(client: str, server: str) -> Finding | None:
    """`server` is hello's `server` (nstopo-helper VERSION)."""
    version = server.rpartition(" ")[2]
    if version == client:
        return None
    return Finding(
        "helper-version",
        f"the helper runs nstopo {version}, this client is {client}",
        "Methods and keys the two versions do not share fail or are ignored (an older "
        "helper knows no newer key).",
        "systemctl restart nstopo-helper.service\n# or stop the running `nstopo helper` "
        "and start this version's",
    )


def netns_not_shared(helper_dir: str, same: bool) -> Finding | None:
    if same:
        return None
    return Finding(
        "netns-not-shared",
        f"the helper's {helper_dir} is not this machine's /run/netns",
        "The helper runs in a private mount namespace: the namespaces it makes are "
        "invisible to `ip netns`, `ip netns exec` and other tools here.",
        "systemctl revert nstopo-helper.service && systemctl restart nstopo-helper.service"
        "\n# drops a drop-in that gave it PrivateMounts= or PrivateTmp=; or run "
        "`nstopo helper` from this shell",
    )


def not_in_group(group: str, user: str, listed: bool) -> Finding:
    """`listed`: /etc/group names the user (then only this login lacks it)."""
    if listed:
        return Finding(
            "group",
            f'"{user}" is in group "{group}", but not in this login',
            "Group membership is read at login: this session cannot use the helper.",
            f"newgrp {group}\n# or log out and in again",
        )
    return Finding(
        "group",
        f'"{user}" is not in the helper\'s group "{group}"',
        "The helper refuses everyone else: no apply, status, ping or capture.",
        f"usermod -aG {group} {user}\n# then log out and in again",
    )


def no_helper(socket: str) -> Finding:
    return Finding(
        "no-helper",
        f"no helper answers at {socket}",
        "Nothing can be deployed, and the doctor cannot read the machine's firewall, "
        "sysctls and modules or the labs.",
        "systemctl start nstopo-helper.socket\n# or: nstopo helper",
    )
