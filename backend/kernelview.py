"""What the kernel holds in one namespace, read (never changed) for `node.show`: routes
of every table, policy rules, neighbours, the nftables ruleset, and on request the
interfaces with their addresses.

The helper asks iproute2 and nft inside the namespace, so the text is exactly what a
person typing `ip -n NS route show table all` or `nft list ruleset` there would read,
and the JSON is iproute2's own (`ip -j`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .kmodules import may_ask_nftables

SECTIONS = ("routes", "rules", "neigh", "firewall")  # node.show's default
# The commands behind each section, as a person would type them in the namespace.
COMMANDS: dict[str, list[list[str]]] = {
    "addresses": [["ip", "address", "show"]],  # on request (the editor's node menu)
    "routes": [
        ["ip", "-4", "route", "show", "table", "all"],
        ["ip", "-6", "route", "show", "table", "all"],
    ],
    "rules": [["ip", "rule", "show"], ["ip", "-6", "rule", "show"]],
    "neigh": [["ip", "neigh", "show"]],
    "firewall": [["nft", "list", "ruleset"]],
}
TIMEOUT_S = 10.0


class ReadFailed(OSError):
    pass


def _run(namespace: Path | None, argv: list[str]) -> str:
    if shutil.which(argv[0]) is None:
        raise ReadFailed(f"{argv[0]} is not installed on the helper's machine")
    full = argv if namespace is None else ["nsenter", f"--net={namespace}", "--", *argv]
    done = subprocess.run(full, capture_output=True, text=True, timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise ReadFailed(f"{' '.join(argv)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def read_section(namespace: Path | None, section: str) -> dict[str, Any]:
    """{"commands", "text", "entries"}: iproute2's text and JSON (nft: text only, the
    ruleset as `nft list ruleset` prints it)."""
    commands = COMMANDS[section]
    if section == "firewall" and not may_ask_nftables():
        shown = [" ".join(argv) for argv in commands]
        return {"commands": shown, "text": "", "entries": []}  # empty, as nft would print it
    text = "".join(_run(namespace, argv) for argv in commands)
    entries: list[Any] = []
    if section != "firewall":
        for argv in commands:
            entries += json.loads(_run(namespace, [argv[0], "-j", *argv[1:]]) or "[]")
    return {"commands": [" ".join(argv) for argv in commands], "text": text, "entries": entries}


def read_node(namespace: Path | None, sections: list[str]) -> dict[str, Any]:
    return {section: read_section(namespace, section) for section in sections}
