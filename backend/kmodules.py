"""Which kernel modules this kernel has, read without loading any: /sys/module,
/proc/modules, modules.builtin and modules.dep, /proc/config.gz. Modules are global to
the machine, so the helper asks a subsystem that could autoload one (nftables) only when
it is already in the kernel."""

from __future__ import annotations

import gzip
import platform
from pathlib import Path

from nstopo.model.doctor import MODULES, ModuleFacts


def _builtin_and_installed() -> tuple[str, str, bool]:
    base = Path("/lib/modules") / platform.release()
    texts = []
    for name in ("modules.builtin", "modules.dep"):
        try:
            texts.append((base / name).read_text())
        except OSError:
            texts.append("")
    return texts[0], texts[1], base.is_dir()


def _config() -> dict[str, str]:
    try:
        with gzip.open("/proc/config.gz", "rt") as config:
            lines = config.read().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        if line.startswith("CONFIG_") and "=" in line:
            key, _, value = line.partition("=")
            found[key] = value
        elif line.startswith("# CONFIG_") and line.endswith(" is not set"):
            found[line[2:].split()[0]] = "n"
    return found


def module_facts() -> dict[str, ModuleFacts]:
    builtin, dep, modules_dir = _builtin_and_installed()
    try:
        loaded = {line.split()[0] for line in Path("/proc/modules").read_text().splitlines()}
        support = True
    except OSError:
        loaded, support = set(), False
    config = _config()

    def listed(text: str, name: str) -> bool:
        return any(f"/{name}.ko" in line.split(":")[0] for line in text.splitlines())

    facts = {}
    for name, (symbol, _) in MODULES.items():
        facts[name] = ModuleFacts(
            in_sys_module=Path("/sys/module", name).exists(),
            loaded=name in loaded,
            builtin=listed(builtin, name),
            installed=listed(dep, name),
            config=config.get(symbol, "n" if config else None),
            module_support=support,
            modules_dir=modules_dir,
        )
    return facts


def may_ask_nftables(nf_tables: ModuleFacts | None = None) -> bool:
    """nf_tables is in the kernel (loaded or built in), or the kernel loads no modules
    at all: nft's first request cannot make the kernel load nfnetlink and nf_tables.
    Without it no namespace has a ruleset to read."""
    facts = nf_tables if nf_tables is not None else module_facts()["nf_tables"]
    in_kernel = facts.in_sys_module or facts.loaded or facts.builtin or facts.config == "y"
    return in_kernel or not facts.module_support
