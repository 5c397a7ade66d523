"""Checks of the `nat:` and `firewall:` keys that need no kernel (nft checks the rules
themselves: backend/nft.py)."""

from __future__ import annotations

import ipaddress

from .names import interface_name_problem
from .problems import Path, Problem, error, warning
from .types import HostNode, NetnsNode, Node


def nat_problems(name: str, node: Node) -> list[Problem]:
    if not isinstance(node, NetnsNode | HostNode):
        return []
    problems: list[Problem] = []
    for index, rule in enumerate(node.nat):
        path: Path = ("nodes", name, "nat", index)
        try:
            ipaddress.ip_network(rule.source, strict=False)
        except ValueError:
            problems.append(
                error(
                    "nat",
                    f'nat source "{rule.source}" is not a network; write it like 10.50.0.0/24',
                    path,
                )
            )
        if rule.out is not None and (why := interface_name_problem(rule.out)):
            problems.append(
                error("nat", f'nat out "{rule.out}" {why}; name an interface', (*path, "out"))
            )
    if isinstance(node, NetnsNode):
        forwarding = str(node.sysctls.get("net.ipv4.ip_forward", "0"))
        if node.nat and forwarding != "1":
            problems.append(
                warning(
                    "nat-forwarding",
                    f'node "{name}" masquerades but does not forward, so only its own '
                    "packets leave; add sysctls: {net.ipv4.ip_forward: 1}",
                    ("nodes", name, "nat"),
                )
            )
        if node.firewall is not None and not node.firewall.strip():
            problems.append(
                error(
                    "firewall",
                    f'node "{name}" has an empty firewall; write an nftables ruleset or '
                    "remove the key",
                    ("nodes", name, "firewall"),
                )
            )
    return problems
