"""`nstopo validate`'s check of each `firewall:` block with nft itself (`nft -c` in a
throw-away namespace: no root needed where user namespaces are allowed), its errors
placed at file:line:col inside the block."""

from __future__ import annotations

from nstopo.backend import nft
from nstopo.model.nftables import NftError
from nstopo.model.problems import Problem, error
from nstopo.model.types import NetnsNode
from nstopo.model.yamlfile import LoadedFile


def firewall_problems(loaded: LoadedFile) -> list[Problem]:
    problems = []
    for name, node in loaded.topology.nodes():
        if not isinstance(node, NetnsNode) or not node.firewall:
            continue
        found = nft.check(node.firewall)
        for problem in found or []:  # None: nft cannot check here; apply will
            problems.append(_placed(loaded, name, problem))
    return problems


def _placed(loaded: LoadedFile, name: str, found: NftError) -> Problem:
    path = ("nodes", name, "firewall")
    problem = error(
        "firewall",
        f"nft: {found.message} (line {found.line} of node {name}'s firewall); fix the rule",
        path,
    )
    key = loaded.source.locate(path)
    if key is None:
        return problem.at(loaded.file, None, None)
    line, col = key
    lines = loaded.text.splitlines()
    value_line = lines[line - 1] if line <= len(lines) else ""
    after_key = value_line.split(":", 1)[1].strip() if ":" in value_line else ""
    if after_key[:1] in ("|", ">") and found.line > 0 and line + found.line <= len(lines):
        # A block scalar: its text starts on the next line, indented.
        first = lines[line]  # the block's indentation is its first line's
        indent = len(first) - len(first.lstrip(" "))
        return problem.at(loaded.file, line + found.line, indent + found.col)
    return problem.at(loaded.file, line, col)
