"""A check's verdict from what the helper answered: pure functions, no I/O, so every
rule is unit-tested (the runner in backend/checkrunner.py asks the helper)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .checks import Expectation, KernelProbe, texts


@dataclass(frozen=True)
class Verdict:
    passed: bool
    evidence: str  # what was seen, in one or a few lines: shown when the check fails


def ping_verdict(summary: Mapping[str, Any] | None, error: str | None, expect: Any) -> Verdict:
    """`summary` is ping.start's result (None when ping could not send: `error`)."""
    if summary is None:
        seen = f"ping could not send: {error}"
        return Verdict(expect == "fail", seen)
    sent, got = summary["transmitted"], summary["received"]
    seen = f"{sent} sent, {got} received, {summary['loss']:g}% loss"
    if got and "avg" in summary:
        seen += f", rtt avg {summary['avg']:.3f} ms max {summary['max']:.3f} ms"
    if not got and summary.get("reason"):
        seen += f" ({summary['reason']})"
    if expect == "fail":
        return Verdict(got == 0, seen)
    if not got:
        return Verdict(False, seen)
    if isinstance(expect, Expectation):
        if expect.max_loss is not None and summary["loss"] > expect.max_loss:
            return Verdict(False, f"{seen}; more than {expect.max_loss:g}% loss")
        if expect.max_rtt is not None and summary.get("max", 0.0) > expect.max_rtt:
            return Verdict(False, f"{seen}; a reply took longer than {expect.max_rtt:g} ms")
    return Verdict(True, seen)


def text_verdict(lines: list[str], expect: Expectation, what: str) -> Verdict:
    """contains / lacks / matches / count over `lines` (capture summaries, or output)."""
    text = "\n".join(lines)
    shown = _shown(lines, what)
    for wanted in texts(expect.contains):
        if wanted not in text:
            return Verdict(False, f'no "{wanted}" in {shown}')
    for unwanted in texts(expect.lacks):
        if unwanted in text:
            line = next(x for x in lines if unwanted in x)
            return Verdict(False, f'"{unwanted}" was there: {line}')
    if expect.matches is not None and not re.search(expect.matches, text, re.MULTILINE):
        return Verdict(False, f"nothing matches /{expect.matches}/ in {shown}")
    if expect.count is not None and len(lines) != expect.count:
        return Verdict(False, f"{len(lines)} {what}, not {expect.count}: {shown}")
    return Verdict(True, shown)


def exec_verdict(result: Mapping[str, Any], expect: Expectation) -> Verdict:
    status = result["status"]
    out = str(result.get("stdout", "")).splitlines()
    if expect.status is not None and status != expect.status:
        err = str(result.get("stderr", "")).strip()
        said = f"exit status {status}, not {expect.status}"
        return Verdict(False, f"{said}: {err}" if err else said)
    if expect.status is None and not (expect.contains or expect.lacks or expect.matches):
        return Verdict(status == 0, f"exit status {status}")
    found = text_verdict(out, expect, "lines of output")
    return Verdict(found.passed, f"exit status {status}; {found.evidence}")


def _shown(lines: list[str], what: str) -> str:
    if not lines:
        return f"no {what}"
    head = lines[:8] + ([f"... {len(lines) - 8} more"] if len(lines) > 8 else [])
    return f"{len(lines)} {what}: " + " | ".join(head)


# -- kernel state ------------------------------------------------------------------------


def oper_verdict(probe: KernelProbe, opers: Mapping[str, str], expect: Any) -> Verdict:
    """`opers`: interface name -> oper state in the node's namespace (lab.status)."""
    name = probe.interface or ""
    state = opers.get(name)
    if state is None:
        return Verdict(expect == "absent", f"no interface {name} (there: {_names(opers)})")
    passed = state.lower() == str(probe.oper)
    return Verdict(passed != (expect == "absent"), f"{name} is {state.lower()}")


def address_verdict(
    probe: KernelProbe, addresses: Mapping[str, Iterable[str]], expect: Any
) -> Verdict:
    """`addresses`: interface name -> CIDRs in the node's namespace (host.discover)."""
    wanted = str(probe.address)
    places = {probe.interface: addresses.get(probe.interface, ())} if probe.interface else addresses
    held = [(iface, a) for iface, cidrs in places.items() for a in cidrs if _same(wanted, a)]
    seen = ", ".join(f"{i} {a}" for i, cidrs in places.items() for a in cidrs) or "no addresses"
    where = f" on {probe.interface}" if probe.interface else ""
    if held:
        return Verdict(expect != "absent", f"{wanted} is on {held[0][0]}")
    return Verdict(expect == "absent", f"{wanted} is not{where} (seen: {seen})")


def route_verdict(probe: KernelProbe, routes: Iterable[Mapping[str, Any]], expect: Any) -> Verdict:
    """`routes`: the node's routes as the file writes them ({to, via, dev})."""
    routes = list(routes)
    hit = [r for r in routes if _same_dest(str(probe.route), str(r.get("to")))]
    if probe.via is not None:
        hit = [r for r in hit if r.get("via") == probe.via]
    seen = "; ".join(_route_text(r) for r in routes) or "no routes"
    if hit:
        return Verdict(expect != "absent", f"route {_route_text(hit[0])}")
    return Verdict(expect == "absent", f"no route to {probe.route} (seen: {seen})")


def _route_text(route: Mapping[str, Any]) -> str:
    parts = [str(route.get("to"))]
    parts += [f"{k} {route[k]}" for k in ("via", "dev") if route.get(k)]
    return " ".join(parts)


def _same(wanted: str, cidr: str) -> bool:
    try:
        if "/" in wanted:
            return ipaddress.ip_interface(wanted) == ipaddress.ip_interface(cidr)
        return ipaddress.ip_address(wanted) == ipaddress.ip_interface(cidr).ip
    except ValueError:
        return wanted == cidr


def _same_dest(wanted: str, to: str) -> bool:
    if wanted == to:
        return True
    try:
        return ipaddress.ip_network(wanted, strict=False) == ipaddress.ip_network(to, strict=False)
    except ValueError:
        return False


def _names(items: Mapping[str, Any]) -> str:
    return ", ".join(sorted(items)) or "none"
