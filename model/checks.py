"""Checks and scenarios: what `nstopo test` runs against a lab (top-level `checks:` and
`scenarios:` keys of a topology file).

A check asks one question of the running lab (does a ping get replies, what does a
capture see while something happens, what does a command print, is an address,
route or interface state there) and says what answer it expects. A scenario is an
ordered list of steps: actions on the lab (a link down or up, another file applied, a
wait) and checks in between. These are the file's structure only; `model.checkrun`
holds the verdicts, the CLI runs them through the helper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BeforeValidator, Discriminator, Field, Tag

from .problems import Path, Problem, error
from .types import STRICT, _a_number

Seconds = Annotated[float, Field(gt=0, le=3600), BeforeValidator(_a_number)]


def _shape(value: Any) -> str:
    """Which branch of a union a value takes, by its YAML shape, so a problem speaks of
    that branch alone. The tags start with "~": model.schema leaves them out of paths."""
    return "~text" if isinstance(value, str) else "~map" if isinstance(value, dict) else "~list"


def _by_shape(*branches: tuple[Any, str]) -> Any:
    tagged = tuple(Annotated[kind, Tag(tag)] for kind, tag in branches)
    tags = [tag for _, tag in branches]

    def pick(value: Any) -> str:  # a shape no branch has: the last branch says what fits
        return shape if (shape := _shape(value)) in tags else tags[-1]

    return Annotated[Union[tagged], Discriminator(pick)]  # noqa: UP007 - built at run time


Texts = _by_shape((str, "~text"), (tuple[str, ...], "~list"))
DEFAULT_TIMEOUT = 5.0  # seconds a check may retry before its verdict is final
CHECK_KINDS = ("ping", "capture", "exec", "kernel")


@dataclass(frozen=True)
class PingProbe:
    """A ping from a node to an address or a node name, optionally out of `interface`."""

    __pydantic_config__ = STRICT
    yaml_keys: ClassVar[dict[str, str]] = {"source": "from"}  # how model/yamlfile writes it
    source: Annotated[str, Field(alias="from")]
    to: str
    interface: str | None = None
    count: Annotated[int, Field(ge=1, le=100), BeforeValidator(_a_number)] = 2


@dataclass(frozen=True)
class WhileAction:
    """What happens while a capture listens (a ping, for now)."""

    __pydantic_config__ = STRICT
    ping: PingProbe


@dataclass(frozen=True)
class CaptureProbe:
    """Packets seen on `node` ("node" for a bridge/tap/tun, or "node:interface") while the
    `while` action runs; `filter` is a pcap filter expression."""

    __pydantic_config__ = STRICT
    yaml_keys: ClassVar[dict[str, str]] = {"during": "while"}
    node: str  # not `on`: YAML 1.1 readers (PyYAML, yq) take the key `on` for true
    during: Annotated[WhileAction, Field(alias="while")]
    filter: str = ""


@dataclass(frozen=True)
class ExecProbe:
    """A command run in a node's namespace: a line split as a shell would, or a list."""

    __pydantic_config__ = STRICT
    node: str
    command: Texts
    stdin: str | None = None


@dataclass(frozen=True)
class KernelProbe:
    """What the kernel has in a node: an interface's oper state, an address (on
    `interface`, or anywhere in the node), a route (to a CIDR or "default", via)."""

    __pydantic_config__ = STRICT
    node: str
    interface: str | None = None
    oper: Literal["up", "down", "unknown", "lowerlayerdown", "dormant"] | None = None
    address: str | None = None
    route: str | None = None
    via: str | None = None


@dataclass(frozen=True)
class Expectation:
    """What a check's answer must show. Which keys fit which kind: see KEYS_BY_KIND."""

    __pydantic_config__ = STRICT
    contains: Texts = ()
    lacks: Texts = ()
    matches: str | None = None
    count: Annotated[int, Field(ge=0), BeforeValidator(_a_number)] | None = None
    status: Annotated[int, Field(ge=0, le=255), BeforeValidator(_a_number)] | None = None
    max_loss: Annotated[float, Field(ge=0, le=100), BeforeValidator(_a_number)] | None = None
    max_rtt: Annotated[float, Field(gt=0), BeforeValidator(_a_number)] | None = None


Verdict = Literal["reply", "fail", "present", "absent"]


@dataclass(frozen=True)
class Check:
    """One question of the lab, exactly one of ping/capture/exec/kernel, and its answer."""

    __pydantic_config__ = STRICT
    name: Annotated[str, Field(min_length=1)]
    ping: PingProbe | None = None
    capture: CaptureProbe | None = None
    exec: ExecProbe | None = None
    kernel: KernelProbe | None = None
    expect: _by_shape((Verdict, "~text"), (Expectation, "~map")) | None = None
    timeout: Seconds | None = None

    @property
    def kind(self) -> str:
        return next((k for k in CHECK_KINDS if getattr(self, k) is not None), "")

    @property
    def probe(self) -> Any:
        return getattr(self, self.kind) if self.kind else None

    @property
    def wait(self) -> float:
        return self.timeout if self.timeout is not None else DEFAULT_TIMEOUT

    def nodes(self) -> list[str]:
        """The nodes this check touches (the editor highlights them)."""
        probe = self.probe
        if isinstance(probe, PingProbe):
            return [probe.source, probe.to]
        if isinstance(probe, CaptureProbe):
            ping = probe.during.ping
            return [probe.node.partition(":")[0], ping.source, ping.to]
        if probe is not None:
            return [probe.node]
        return []


@dataclass(frozen=True)
class Step:
    """One step of a scenario: exactly one of a link's new state, a file to apply (a
    path relative to this file), a wait in seconds, or a check (inline, or the name
    of one of the file's checks)."""

    __pydantic_config__ = STRICT
    link: str | None = None  # "node:interface", either end of the veth pair
    state: Literal["up", "down"] | None = None
    apply: str | None = None
    wait: Seconds | None = None
    check: _by_shape((str, "~text"), (Check, "~map")) | None = None

    @property
    def action(self) -> str:
        for name in ("link", "apply", "wait", "check"):
            if getattr(self, name) is not None:
                return name
        return ""


@dataclass(frozen=True)
class Scenario:
    __pydantic_config__ = STRICT
    name: Annotated[str, Field(min_length=1)]
    steps: tuple[Step, ...] = ()


# Which expectation keys mean something for each kind of check.
KEYS_BY_KIND: dict[str, set[str]] = {
    "ping": {"max_loss", "max_rtt"},
    "capture": {"contains", "lacks", "count", "matches"},
    "exec": {"contains", "lacks", "matches", "status"},
    "kernel": set(),
}
VERDICTS_BY_KIND: dict[str, set[str]] = {
    "ping": {"reply", "fail"},
    "capture": set(),
    "exec": set(),
    "kernel": {"present", "absent"},
}


def texts(value: Texts) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def owner_of(loc: Path) -> type | None:
    """The dataclass whose keys are allowed at pydantic location `loc` under checks: or
    scenarios: (to list them when a key is unknown)."""
    owner: type | None = {"checks": Check, "scenarios": Scenario}.get(str(loc[0]))
    for item in loc[2:-1] if owner is Check else loc[1:-1]:
        if owner is None or isinstance(item, int):
            continue
        hints = {
            (Check, "ping"): PingProbe,
            (Check, "capture"): CaptureProbe,
            (Check, "exec"): ExecProbe,
            (Check, "kernel"): KernelProbe,
            (Check, "expect"): Expectation,
            (CaptureProbe, "while"): WhileAction,
            (WhileAction, "ping"): PingProbe,
            (Scenario, "steps"): Step,
            (Step, "check"): Check,
        }
        owner = hints.get((owner, str(item)), owner if str(item) in _known(owner) else None)
    return owner


def _known(owner: type) -> set[str]:
    return {f.name for f in fields(owner)}


def allowed_keys(owner: type) -> list[str]:
    aliases = {"source": "from", "during": "while"}
    return [aliases.get(f.name, f.name) for f in fields(owner)]


# -- meaning: what the structure cannot say ---------------------------------------------


def suite_problems(lab: Any) -> list[Problem]:
    """validate_suite for a parsed file (model.schema.LabFile)."""
    ends = {ep.short for link in lab.links for ep in link.endpoints}
    return validate_suite(lab.checks, lab.scenarios, set(lab.nodes), ends)


def validate_suite(
    checks: tuple[Check, ...], scenarios: tuple[Scenario, ...], nodes: set[str], ends: set[str]
) -> list[Problem]:
    """Problems with paths: checks that name unknown nodes, ask two questions or none,
    expect what their kind cannot answer; steps that do not say one thing."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, check in enumerate(checks):
        path: Path = ("checks", index)
        problems += _check_problems(check, path, nodes)
        if check.name in seen:
            problems.append(
                error(
                    "check-name",
                    f'check {index + 1} has the name "{check.name}" of check '
                    f"{seen[check.name] + 1}; give each check its own name",
                    (*path, "name"),
                )
            )
        seen.setdefault(check.name, index)
    names: set[str] = set()
    for s_index, scenario in enumerate(scenarios):
        if scenario.name in names:
            problems.append(
                error(
                    "scenario-name",
                    f'two scenarios are called "{scenario.name}"; rename one',
                    ("scenarios", s_index, "name"),
                )
            )
        names.add(scenario.name)
        if not scenario.steps:
            problems.append(
                error(
                    "scenario-steps",
                    f'scenario "{scenario.name}" has no steps; add some under steps:',
                    ("scenarios", s_index),
                )
            )
        for index, step in enumerate(scenario.steps):
            where: Path = ("scenarios", s_index, "steps", index)
            problems += _step_problems(step, where, nodes, ends, set(seen))
    return problems


def _check_problems(check: Check, path: Path, nodes: set[str]) -> list[Problem]:
    kinds = [k for k in CHECK_KINDS if getattr(check, k) is not None]
    if len(kinds) != 1:
        said = "none" if not kinds else " and ".join(kinds)
        return [
            error(
                "check-kind",
                f'check "{check.name}" asks {said}; give it exactly one of: '
                + ", ".join(CHECK_KINDS),
                path,
            )
        ]
    kind = kinds[0]
    out: list[Problem] = []
    for node, key in _named_nodes(check):
        if node not in nodes:
            out.append(
                error(
                    "check-node",
                    f'check "{check.name}" names node "{node}", which the file does not '
                    "have; use one of its nodes",
                    (*path, kind, *key),
                )
            )
    expect = check.expect
    if isinstance(expect, str) and expect not in VERDICTS_BY_KIND[kind]:
        fits = " or ".join(sorted(VERDICTS_BY_KIND[kind])) or "a mapping such as {contains: ...}"
        out.append(
            error(
                "check-expect",
                f'a {kind} check cannot expect "{expect}"; expect {fits}',
                (*path, "expect"),
            )
        )
    elif isinstance(expect, Expectation):
        for f in fields(expect):
            value = getattr(expect, f.name)
            if value not in (None, ()) and f.name not in KEYS_BY_KIND[kind]:
                fits = ", ".join(sorted(KEYS_BY_KIND[kind])) or "present or absent"
                out.append(
                    error(
                        "check-expect",
                        f'a {kind} check has no "{f.name}" to expect; use {fits}',
                        (*path, "expect", f.name),
                    )
                )
        if expect.matches is not None:
            try:
                re.compile(expect.matches)
            except re.error as exc:
                out.append(
                    error(
                        "check-expect",
                        f"matches: {expect.matches!r} is not a regular expression ({exc}); "
                        "correct it",
                        (*path, "expect", "matches"),
                    )
                )
    if kind in ("capture", "exec") and not isinstance(expect, Expectation):
        out.append(
            error(
                "check-expect",
                f'check "{check.name}" says nothing to expect; add expect: with one of '
                + ", ".join(sorted(KEYS_BY_KIND[kind])),
                (*path,),
            )
        )
    if isinstance(check.kernel, KernelProbe):
        probe = check.kernel
        asked = [probe.oper is not None, probe.address is not None, probe.route is not None]
        if sum(asked) != 1:
            out.append(
                error(
                    "check-kernel",
                    f'check "{check.name}" should ask the kernel one thing: oper (with '
                    "interface), address or route",
                    (*path, "kernel"),
                )
            )
        elif probe.oper is not None and probe.interface is None:
            out.append(
                error(
                    "check-kernel",
                    f'check "{check.name}" asks for an oper state; say of which interface',
                    (*path, "kernel"),
                )
            )
    return out


def _named_nodes(check: Check) -> list[tuple[str, Path]]:
    probe = check.probe
    if isinstance(probe, PingProbe):
        return [(probe.source, ("from",))]
    if isinstance(probe, CaptureProbe):
        return [
            (probe.node.partition(":")[0], ("node",)),
            (probe.during.ping.source, ("while", "ping", "from")),
        ]
    if probe is not None:
        return [(probe.node, ("node",))]
    return []


def _step_problems(
    step: Step, path: Path, nodes: set[str], ends: set[str], checks: set[str]
) -> list[Problem]:
    said = [n for n in ("link", "apply", "wait", "check") if getattr(step, n) is not None]
    if len(said) != 1:
        return [
            error(
                "scenario-step",
                f"step {path[-1] + 1} says {' and '.join(said) or 'nothing'}; give each step "
                "exactly one of: link (with state), apply, wait, check",
                path,
            )
        ]
    if step.link is not None:
        if step.state is None:
            return [error("scenario-step", "a link step needs state: up or down", path)]
        if step.link not in ends:
            return [
                error(
                    "scenario-link",
                    f'no link ends at "{step.link}"; name one end as node:interface',
                    (*path, "link"),
                )
            ]
    elif step.state is not None:
        return [error("scenario-step", "state: goes with link:; add the link", (*path, "state"))]
    if isinstance(step.check, str) and step.check not in checks:
        return [
            error(
                "scenario-check",
                f'no check is called "{step.check}"; name one under checks: or write it here',
                (*path, "check"),
            )
        ]
    if isinstance(step.check, Check):
        return _check_problems(step.check, (*path, "check"), nodes)
    return []


def renamed(checks: tuple[Check, ...], old: str, new: str) -> tuple[Check, ...]:
    """The checks with node `old` called `new` wherever they name it (a node renamed in
    the editor keeps its checks)."""
    from dataclasses import replace

    def node(name: str) -> str:  # a node's name; a ping's target may be an address
        return new if name == old else name

    def place(where: str) -> str:  # a capture's "node" or "node:interface"
        head, sep, tail = where.partition(":")
        return f"{new}{sep}{tail}" if head == old else where

    def ping(probe: PingProbe) -> PingProbe:
        return replace(probe, source=node(probe.source), to=node(probe.to))

    out = []
    for check in checks:
        if check.ping is not None:
            check = replace(check, ping=ping(check.ping))
        elif check.capture is not None:
            during = WhileAction(ping(check.capture.during.ping))
            check = replace(check, capture=replace(check.capture, node=place(check.capture.node),
                                                   during=during))  # fmt: skip
        elif check.exec is not None:
            check = replace(check, exec=replace(check.exec, node=node(check.exec.node)))
        elif check.kernel is not None:
            check = replace(check, kernel=replace(check.kernel, node=node(check.kernel.node)))
        out.append(check)
    return tuple(out)
