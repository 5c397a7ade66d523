"""Run a file's checks and scenarios against its running lab, through the helper (the
client side: `nstopo test` and the editor's Checks panel).

Each check retries until it holds or its timeout passes, so a check right after an
apply or a link change waits for the kernel (a bridge port's forwarding state, a
neighbour resolved) instead of failing on the first try. Verdicts come from
model/verdicts.py; this module only asks.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nstopo.model.checks import Check, KernelProbe, PingProbe, Scenario, Step
from nstopo.model.schema import to_document
from nstopo.model.topology import Topology, namespace_of
from nstopo.model.verdicts import (
    Verdict,
    address_verdict,
    exec_verdict,
    oper_verdict,
    ping_verdict,
    route_verdict,
    text_verdict,
)
from nstopo.protocol.errors import ErrorCode, RpcError
from nstopo.protocol.methods import Method, Notification

from .client import HelperClient

EXEC_RUN = "exec.run"  # the terminals issue's method: {"lab","node","argv",...}
RETRY_PAUSE = 0.3  # seconds between two tries of a check that does not hold yet


@dataclass(frozen=True)
class Outcome:
    """A check's final verdict (or a scenario step that could not be done)."""

    name: str
    passed: bool
    evidence: str
    seconds: float
    scenario: str | None = None
    tries: int = 1

    @property
    def title(self) -> str:
        return f"{self.scenario} / {self.name}" if self.scenario else self.name

    def line(self, label: str) -> str:
        """PASS or FAIL, `label`, and a failure's evidence indented below (what `nstopo
        test` prints and the Checks panel lists)."""
        if self.passed:
            return f"PASS  {label}"
        return f"FAIL  {label}\n      {self.evidence}"


class StepFailed(Exception):
    """An action of a scenario the helper refused; the scenario stops there."""


@dataclass
class CheckRunner:
    client: HelperClient
    topology: Topology  # as the lab runs now (scenarios change it)
    base_dir: Path = field(default_factory=Path.cwd)  # apply: paths are relative to it
    sleep: Callable[[float], None] = time.sleep

    @property
    def lab(self) -> str:
        return self.topology.name

    # -- checks --------------------------------------------------------------------------

    def run_check(self, check: Check, scenario: str | None = None) -> Outcome:
        start = time.monotonic()
        deadline = start + check.wait
        tries = 0
        while True:
            tries += 1
            verdict = self.attempt(check)
            if verdict.passed or time.monotonic() + RETRY_PAUSE >= deadline:
                break
            if verdict.evidence.startswith("the helper has no "):
                break  # no retry helps: the method is missing
            self.sleep(RETRY_PAUSE)
        return Outcome(
            check.name,
            verdict.passed,
            verdict.evidence,
            time.monotonic() - start,
            scenario,
            tries,
        )

    def attempt(self, check: Check) -> Verdict:
        try:
            if check.ping is not None:
                return self._ping(check.ping, check.expect)
            if check.capture is not None:
                return self._capture(check)
            if check.exec is not None:
                return self._exec(check)
            if check.kernel is not None:
                return self._kernel(check.kernel, check.expect)
        except RpcError as exc:
            if exc.code == ErrorCode.METHOD_NOT_FOUND:
                return Verdict(False, f"the helper has no {exc.message or 'such method'}")
            return Verdict(False, f"the helper said: {exc.message}")
        return Verdict(False, "the check asks nothing")

    def _ping_params(self, probe: PingProbe) -> dict[str, Any]:
        return {
            "lab": self.lab,
            "source": probe.source,
            "target": probe.to,
            "interface": probe.interface,
            "count": probe.count,
            "interval": 0.2,
            "timeout": 1.0,
        }

    def _ping(self, probe: PingProbe, expect: Any) -> Verdict:
        try:
            summary = self.client.call(Method.PING_START, self._ping_params(probe))
        except RpcError as exc:
            if exc.code != ErrorCode.PING_FAILED:
                raise
            return ping_verdict(None, exc.message, expect)
        return ping_verdict(summary, None, expect)

    def _capture(self, check: Check) -> Verdict:
        probe = check.capture
        assert probe is not None
        node, _, interface = probe.node.partition(":")
        lines: list[str] = []

        def keep(method: str, params: Any) -> None:
            if method == Notification.CAPTURE_PACKET:
                lines.append(str(params["summary"]))

        started = self.client.call(
            Method.CAPTURE_START,
            {"lab": self.lab, "node": node, "interface": interface or None,
             "filter": probe.filter, "duration": check.wait + 10},
            keep,
        )  # fmt: skip
        try:
            self.client.call(Method.PING_START, self._ping_params(probe.during.ping), keep)
        except RpcError as exc:
            if exc.code != ErrorCode.PING_FAILED:
                raise
        finally:
            self.sleep(0.1)  # the last reply's frames reach the capture socket
            self.client.call(Method.CAPTURE_STOP, {"capture": started["capture"]}, keep)
        assert isinstance(check.expect, object)
        return text_verdict(lines, check.expect, "packets")  # type: ignore[arg-type]

    def _exec(self, check: Check) -> Verdict:
        probe = check.exec
        assert probe is not None
        argv = shlex.split(probe.command) if isinstance(probe.command, str) else probe.command
        params: dict[str, Any] = {"lab": self.lab, "node": probe.node, "argv": list(argv)}
        params["timeout"] = check.wait
        if probe.stdin is not None:
            params["stdin"] = probe.stdin
        try:
            result = self.client.call(EXEC_RUN, params)
        except RpcError as exc:
            if exc.code == ErrorCode.METHOD_NOT_FOUND:
                return Verdict(False, f"the helper has no {EXEC_RUN} (an older helper)")
            raise
        return exec_verdict(result, check.expect)  # type: ignore[arg-type]

    def _kernel(self, probe: KernelProbe, expect: Any) -> Verdict:
        namespace = namespace_of(self.topology, probe.node)
        if probe.oper is not None:
            return oper_verdict(probe, self._opers(namespace), expect)
        document = self.client.call(Method.HOST_DISCOVER)["topology"]
        if probe.address is not None:
            return address_verdict(probe, _addresses(document, namespace), expect)
        node = document.get("nodes", {}).get(probe.node, {})
        return route_verdict(probe, node.get("routes", []), expect)

    def _opers(self, namespace: str | None) -> dict[str, str]:
        labs = self.client.call(Method.LAB_STATUS, {"lab": self.lab})
        for lab in labs:
            if namespace is None:
                return {x["name"]: x["oper"] for x in lab["host_links"]}
            for ns in lab["namespaces"]:
                if ns["name"] == namespace:
                    return {x["name"]: x["oper"] for x in ns["links"]}
        return {}

    # -- scenarios -----------------------------------------------------------------------

    def run_scenario(self, scenario: Scenario, named: dict[str, Check]) -> Iterator[Outcome | str]:
        """The scenario's outcomes as they come, and a line for each action done."""
        for index, step in enumerate(scenario.steps):
            if step.check is not None:
                check = named[step.check] if isinstance(step.check, str) else step.check
                yield self.run_check(check, scenario.name)
                continue
            start = time.monotonic()
            try:
                yield self.do(step)
            except (StepFailed, RpcError) as exc:
                message = exc.message if isinstance(exc, RpcError) else str(exc)
                said = f"step {index + 1} ({step.action})"
                yield Outcome(said, False, message, time.monotonic() - start, scenario.name)
                return

    def do(self, step: Step) -> str:
        if step.wait is not None:
            self.sleep(step.wait)
            return f"waited {step.wait:g} s"
        if step.link is not None:
            return self._set_link(step.link, str(step.state))
        if step.apply is not None:
            return self._apply_file(step.apply)
        raise StepFailed("the step does nothing")

    def _set_link(self, end: str, state: str) -> str:
        for link_id, link in self.topology.links():
            if end in (ep.short for ep in link.endpoints):
                changed = self.topology.copy()
                changed.update_link(link_id, state=state)
                self.apply(changed)
                return f"link {end} set {state}"
        raise StepFailed(f"no link ends at {end}")

    def _apply_file(self, name: str) -> str:
        from nstopo.model.problems import TopologyFileError
        from nstopo.model.yamlfile import load

        path = (self.base_dir / name).resolve()
        try:
            loaded = load(path)
        except TopologyFileError as exc:
            raise StepFailed(f"{name}: {exc.problems[0].format()}") from None
        if loaded.topology.name != self.lab:
            raise StepFailed(
                f"{name} is lab {loaded.topology.name}, not {self.lab}; a scenario changes "
                "its own lab"
            )
        self.apply(loaded.topology)
        return f"applied {name}"

    def apply(self, topology: Topology) -> None:
        self.client.call(Method.LAB_APPLY, {"topology": to_document(topology)})
        self.topology = topology


def _addresses(document: dict[str, Any], namespace: str | None) -> dict[str, list[str]]:
    """Interface -> addresses in `namespace` (None: the host), from host.discover's
    topology document: devices are nodes, veth ends are link endpoints."""
    nodes = document.get("nodes", {})

    def where(node_name: str) -> str | None:
        node = nodes.get(node_name, {})
        kind = node.get("kind")
        if kind == "netns":
            return node_name
        if kind in ("bridge", "tap", "tun"):
            return node.get("namespace")
        return None

    found: dict[str, list[str]] = {}
    for name, node in nodes.items():
        if node.get("kind") in ("bridge", "tap", "tun") and where(name) == namespace:
            found.setdefault(name, []).extend(node.get("addresses", []))
    for link in document.get("links", []):
        for end in link.get("endpoints", []):
            if isinstance(end, dict) and where(end["node"]) == namespace:
                found.setdefault(end["interface"], []).extend(end.get("addresses", []))
    return found
