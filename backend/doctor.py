"""The helper's `host.doctor`: reads (never changes) what silently breaks labs on this
machine and turns it into findings with model/doctor.py's rules.

The helper reads what needs privileges (the nftables ruleset, legacy iptables) or its
own view (its namespace's sysctls, the labs' namespaces); the client adds what only it
sees (its groups, its /run/netns, the helper's version: cli/doctor_cmd.py). Nothing
here loads a kernel module: the nftables ruleset is read only when nf_tables is already
in the kernel (nft's first request would have the kernel load nfnetlink and nf_tables;
without them there is no ruleset to read), and legacy iptables only when its tables
already exist (`iptables-legacy-save` on an absent table would load its module).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from nstopo.model.doctor import (
    ForwardDrop,
    HostFacts,
    LabFacts,
    ModuleFacts,
    Namespace,
    host_findings,
)
from nstopo.model.doctorlab import lab_facts
from nstopo.model.nftables import host_table
from nstopo.model.problems import TopologyFileError
from nstopo.model.types import NetnsNode

from . import jsonrpc as rpc
from .kmodules import may_ask_nftables, module_facts
from .labs import LabError, LabService

TIMEOUT_S = 10.0
PROC_SYS = Path("/proc/sys")


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def read_namespace() -> Namespace:
    """The routing sysctls of the calling thread's network namespace."""
    conf = PROC_SYS / "net/ipv4/conf"
    rp = {}
    try:
        names = os.listdir(conf)
    except OSError:
        names = []
    for name in names:
        value = _read_int(conf / name / "rp_filter")
        if value is not None:
            rp[name] = value
    return Namespace(
        ip_forward=_read_int(PROC_SYS / "net/ipv4/ip_forward") or 0,
        ip6_forward=_read_int(PROC_SYS / "net/ipv6/conf/all/forwarding") or 0,
        rp_filter=rp,
    )


def _run(argv: list[str]) -> str | None:
    try:
        return _output(argv)
    except OSError:
        return None


def _output(argv: list[str]) -> str:
    """The command's standard output; OSError saying why when it could not run or failed."""
    if shutil.which(argv[0]) is None:
        raise OSError(f"{argv[0]} is not installed")
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise OSError(f"{argv[0]} did not answer in {TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise OSError(f"{' '.join(argv)}: {said}")
    return done.stdout


def parse_nft(text: str, ours: set[str]) -> tuple[list[ForwardDrop], int]:
    """Forward-hook chains that drop, and the rules in tables not in `ours`, in
    `nft -j list ruleset` (iptables-nft's tables are nftables tables too)."""
    items = [next(iter(item.items())) for item in json.loads(text).get("nftables", [])]
    chains_of: dict[tuple[str, str], set[str]] = {}
    for kind, item in items:
        if kind == "chain":
            chains_of.setdefault((item["family"], item["table"]), set()).add(item["name"])
    drops, rules = [], 0
    for kind, item in items:
        if kind == "rule" and item.get("table") not in ours:
            rules += 1
        if (
            kind == "chain"
            and item.get("hook") == "forward"
            and item.get("policy") == "drop"
            and item["family"] in ("ip", "ip6", "inet", "bridge")
            and item["table"] not in ours
        ):
            docker = "DOCKER-USER" in chains_of[(item["family"], item["table"])]
            drops.append(ForwardDrop("nft", item["family"], item["table"], item["name"], docker))
    return drops, rules


def nft_facts(ours: set[str], nf_tables: ModuleFacts) -> tuple[list[ForwardDrop], int, str | None]:
    """(drops, rules, why it could not be read). Without nf_tables in the kernel there is
    no ruleset, and asking nft would load the module: nothing is asked then."""
    if not may_ask_nftables(nf_tables):
        return [], 0, None
    try:
        text = _output(["nft", "-j", "list", "ruleset"])
        drops, rules = parse_nft(text, ours)
    except OSError as exc:
        return [], 0, str(exc)
    except (ValueError, KeyError, TypeError, StopIteration):
        return [], 0, "nft -j printed JSON the doctor does not know"
    return drops, rules, None


def parse_legacy(text: str, tool: str, family: str) -> tuple[list[ForwardDrop], int]:
    """A FORWARD policy DROP in the filter table, and the rules, of `TOOL-save` output."""
    drops, table = [], ""
    docker = ":DOCKER-USER " in text
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif table == "filter" and line.startswith(":FORWARD DROP"):
            drops.append(ForwardDrop(tool, family, "filter", "FORWARD", docker))
    return drops, sum(line.startswith("-A ") for line in text.splitlines())


def legacy_facts() -> tuple[list[ForwardDrop], int | None]:
    drops: list[ForwardDrop] = []
    rules: int | None = None
    for family, names, tool in (
        ("ip", "/proc/net/ip_tables_names", "iptables-legacy"),
        ("ip6", "/proc/net/ip6_tables_names", "ip6tables-legacy"),
    ):
        try:
            tables = Path(names).read_text().split()
        except OSError:
            continue
        if not tables:  # no legacy table exists: asking for one would load its module
            continue
        text = _run([f"{tool}-save"])
        if text is None:
            continue
        found, count = parse_legacy(text, tool, family)
        drops += found
        rules = (rules or 0) + count
    return drops, rules


def read_host(labs: list[str]) -> HostFacts:
    """The machine as the helper's namespace sees it (`labs`: their own host tables)."""
    ours = {host_table(lab) for lab in labs}
    modules = module_facts()  # first: what the kernel has before anything is asked
    drops, nft_rules, nft_error = nft_facts(ours, modules["nf_tables"])
    legacy_drops, legacy_rules = legacy_facts()
    bridge = PROC_SYS / "net/bridge"
    return HostFacts(
        host=read_namespace(),
        bridge_nf_call_iptables=_read_int(bridge / "bridge-nf-call-iptables"),
        bridge_nf_call_ip6tables=_read_int(bridge / "bridge-nf-call-ip6tables"),
        forward_drops=(*drops, *legacy_drops),
        nft_rules=nft_rules,
        legacy_rules=legacy_rules,
        modules=modules,
        nft_error=nft_error,
    )


def read_labs(service: LabService) -> list[LabFacts]:
    found = []
    for lab in sorted(service.registry.labs):
        try:
            topology = service.running_topology(lab)
        except (LabError, TopologyFileError):  # recorded without a topology: nothing to judge
            continue
        sysctls = {}
        for name, node in topology.nodes():
            if isinstance(node, NetnsNode) and (service.realizer.run_dir / name).exists():
                try:
                    sysctls[name] = service.realizer.worker.call_in(name, read_namespace)
                except OSError:
                    continue
        found.append(lab_facts(topology, sysctls))
    return found


def diagnose(service: LabService) -> dict[str, Any]:
    labs = sorted(service.registry.labs)
    findings = host_findings(read_host(labs), read_labs(service))
    run_dir = service.realizer.run_dir
    try:
        st = run_dir.stat()
        netns_dir = {"path": str(run_dir), "device": st.st_dev, "inode": st.st_ino}
    except OSError:
        netns_dir = None
    return {"findings": [f.to_json() for f in findings], "netns_dir": netns_dir}


async def host_doctor(service: LabService, params: None, session: rpc.Session) -> dict:
    return await asyncio.to_thread(diagnose, service)
