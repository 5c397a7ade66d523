"""Guided lessons: the study notes' experiments as stages that notice when they are done.

One YAML file per lesson in `resources/lessons/` (docs/lessons.md tells how to write one):

    lesson: 1                       # format version
    title: The loopback interface
    summary: One paragraph: what the learner will see and learn.
    start: {nstopo: 1, name: loopback, nodes: {}}    # the topology the lesson opens
    stages:
      - title: A namespace of its own
        explain: What the kernel does and why.
        task: What the learner does ("Draw a namespace named ns1").
        drawing:                    # optional: conditions on the learner's drawing
          - {node: ns1, kind: netns, loopback: down}
        checks:                     # optional: kernel checks, a topology file's `checks:`
          - name: lo is down
            kernel: {node: ns1, interface: lo, oper: down}
        solution: {nstopo: 1, name: loopback, nodes: {ns1: {kind: netns}}}

`start` and every `solution` are topologies in the topology file format (inline), read
by the topology reader (model/schema.py, model/validate.py); a stage's `checks` are read
by the checks reader (model/checks.py) against that stage's solution, so they may name
only its nodes. A stage has drawing conditions, checks, or both. Every solution keeps
the start's lab name (the learner's lab is one lab throughout) and satisfies its own
stage's drawing conditions. Any problem is a `TopologyFileError` whose problems name the
lesson file's line and column.

Drawing conditions (one mapping each, exactly one of the first keys):

    {node: N, kind: K, loopback: up|down, state: up|down, bridge: B, namespace: NS}
                                    # N exists; each other key given must match it
    {absent_node: N}
    {link: [A, B]}                  # a veth between A and B ("node" or "node:interface")
    {absent_link: [A, B]}
    {address: CIDR, on: X}          # X: a bridge/tap/tun (its own address), a netns or
    {absent_address: CIDR, on: X}   #    host (any interface in it), or "node:interface"
    {route: default|CIDR, on: N, via: GW}      # via optional
    {sysctl: KEY, value: V, on: N}
    {nat: CIDR, on: N}              # N masquerades CIDR (a `nat:` rule)

API:
    load_lesson(path) -> Lesson             # raises TopologyFileError (file:line:col)
    parse_lesson(text, file=None) -> Lesson
    bundled_lessons() -> list[Lesson]       # resources/lessons/*.yaml, by file name
    Lesson.name (file stem, a stable key for progress) / path / title / summary /
        start (Topology; copy it before editing) / stages
    Stage.title / explain / task / drawing (tuple[Condition, ...]) /
        checks (tuple[Check, ...]) / solution (Topology)
    drawing_unmet(stage, topology) -> list[str]   # sentences of what is not drawn yet
    unmet(condition, topology) -> str | None      # one condition
    Condition.text                                # the condition as a to-do sentence
    stage_document(lesson, index) -> dict   # stage `index`'s solution + checks as a
                                            # topology file's data (for `nstopo test`)

A stage is done when its drawing conditions hold on the current document and its
checks pass against the running lab (model/checks.py, backend/checkrunner.py); a stage
without checks needs no helper.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, replace
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from . import inputbudget
from .checks import Check
from .problems import Path, Problem, TopologyFileError, error
from .schema import parse_lab, topology_from_lab
from .topology import Topology, namespace_of
from .types import STRICT, AdminState, BridgeNode, TapNode, TunNode
from .validate import validate_lab
from .yamlfile import SourceMap, _fast_data, _parse_yaml, _plain_data, read_text

LESSON_FORMAT = 1
Text = Annotated[str, Field(min_length=1)]
WHAT_KEYS = (
    "node",
    "absent_node",
    "link",
    "absent_link",
    "address",
    "absent_address",
    "route",
    "sysctl",
    "nat",
)
# Which other keys each kind of condition takes (`on` is required where listed first).
MODIFIERS: dict[str, tuple[str, ...]] = {
    "node": ("kind", "loopback", "state", "bridge", "namespace"),
    "absent_node": (),
    "link": (),
    "absent_link": (),
    "address": ("on",),
    "absent_address": ("on",),
    "route": ("on", "via"),
    "sysctl": ("on", "value"),
    "nat": ("on",),
}


@dataclass(frozen=True)
class Condition:
    """One thing the learner's drawing must show (see the module docstring)."""

    __pydantic_config__ = STRICT
    node: str | None = None
    kind: Literal["netns", "bridge", "tap", "tun", "host"] | None = None
    loopback: AdminState | None = None
    state: AdminState | None = None
    bridge: str | None = None
    namespace: str | None = None
    absent_node: str | None = None
    link: tuple[str, str] | None = None
    absent_link: tuple[str, str] | None = None
    address: str | None = None
    absent_address: str | None = None
    route: str | None = None
    via: str | None = None
    sysctl: str | None = None
    value: str | int | float | None = None
    nat: str | None = None
    on: str | None = None

    @property
    def what(self) -> str:
        return next((k for k in WHAT_KEYS if getattr(self, k) is not None), "")

    @property
    def text(self) -> str:
        """The condition as an item of a to-do list."""
        if self.node is not None:
            kind = f"a {self.kind}" if self.kind else "a node"
            said = [
                f"{key} {getattr(self, key)}" for key in MODIFIERS["node"][1:] if _has(self, key)
            ]
            return f"{kind} named {self.node}" + (f" with {', '.join(said)}" if said else "")
        if self.absent_node is not None:
            return f"no node named {self.absent_node}"
        if self.link is not None:
            return f"a veth between {self.link[0]} and {self.link[1]}"
        if self.absent_link is not None:
            return f"no veth between {self.absent_link[0]} and {self.absent_link[1]}"
        if self.address is not None:
            return f"address {self.address} on {self.on}"
        if self.absent_address is not None:
            return f"no address {self.absent_address} on {self.on}"
        if self.route is not None:
            via = f" via {self.via}" if self.via else ""
            return f"a route to {self.route}{via} in {self.on}"
        if self.sysctl is not None:
            return f"{self.sysctl} = {self.value} in {self.on}"
        if self.nat is not None:
            return f"{self.on} masquerades {self.nat}"
        return "nothing"


def _has(condition: Condition, key: str) -> bool:
    return getattr(condition, key) is not None


@dataclass(frozen=True)
class Stage:
    title: str
    explain: str
    task: str
    drawing: tuple[Condition, ...]
    checks: tuple[Check, ...]
    solution: Topology


@dataclass(frozen=True)
class Lesson:
    name: str  # the file's stem: a stable key (progress, ordering)
    path: FsPath | None
    title: str
    summary: str
    start: Topology
    stages: tuple[Stage, ...]
    _documents: tuple[dict[str, Any], ...] = field(default=(), repr=False, compare=False)


# -- the file's structure -----------------------------------------------------------------


@dataclass(frozen=True)
class _StageFile:
    __pydantic_config__ = STRICT
    title: Text
    explain: Text
    task: Text
    solution: dict[str, Any]
    drawing: tuple[Condition, ...] = ()
    checks: tuple[Any, ...] = ()


@dataclass(frozen=True)
class _LessonFile:
    __pydantic_config__ = STRICT
    lesson: Literal[1]
    title: Text
    summary: Text
    start: dict[str, Any]
    stages: Annotated[tuple[_StageFile, ...], Field(min_length=1)]


_ADAPTER = TypeAdapter(_LessonFile)
_OWNERS: dict[str, type] = {"stages": _StageFile, "drawing": Condition}


def load_lesson(path: str | FsPath) -> Lesson:
    """Read a lesson file. Raises TopologyFileError naming file:line:col."""
    return parse_lesson(read_text(path, "the lesson"), str(path), FsPath(path))


def parse_lesson(text: str, file: str | None = None, path: FsPath | None = None) -> Lesson:
    if too_deep := inputbudget.check_yaml(text):
        raise TopologyFileError(
            [error("budget", too_deep.message).at(file, *too_deep.line_col(text))]
        )
    # libyaml reads a good file several times faster; the round-trip tree, which knows
    # every key's line and column (and words YAML errors), is built only when needed.
    data = _fast_data(text)
    if data is None:
        data = _plain_data(_tree(text, file))

    def fail(problems: list[Problem]) -> TopologyFileError:
        source = SourceMap(_tree(text, file))
        return TopologyFileError([source.place(p, file) for p in problems])

    try:
        parsed = _ADAPTER.validate_python(data)
    except ValidationError as exc:
        found = [_lesson_problem(e) for e in exc.errors(include_url=False)]
        # A misspelt key also leaves the right one missing: name the misspelling first.
        found.sort(key=lambda p: p.rule != "unknown-key")
        raise fail(found) from None
    problems: list[Problem] = []
    start = _topology(parsed.start, ("start",), problems)
    stages: list[Stage] = []
    documents: list[dict[str, Any]] = []
    for index, raw in enumerate(parsed.stages):
        where: Path = ("stages", index)
        for i, condition in enumerate(raw.drawing):
            if (wrong := _condition_problem(condition, (*where, "drawing", i))) is not None:
                problems.append(wrong)
        if not raw.drawing and not raw.checks:
            problems.append(
                error(
                    "lesson-stage",
                    f"stage {index + 1} has neither drawing: nor checks:, so it would be done "
                    "at once; add what notices the task being done",
                    where,
                )
            )
        if "checks" in raw.solution:
            problems.append(
                error(
                    "lesson-checks",
                    f"stage {index + 1}'s solution has checks:; put them under the stage's "
                    "own checks:",
                    (*where, "solution", "checks"),
                )
            )
            continue
        document = {**raw.solution, "checks": list(raw.checks)}
        lab = parse_lab(document)
        if isinstance(lab, list):
            problems += [_stage_path(p, where) for p in lab]
            continue
        problems += [_stage_path(p, where) for p in validate_lab(lab) if p.is_error]
        solution = topology_from_lab(lab)
        stage = Stage(raw.title, raw.explain, raw.task, raw.drawing, lab.checks, solution)
        if start is not None and solution.name != start.name:
            problems.append(
                error(
                    "lesson-name",
                    f'stage {index + 1}\'s solution is lab "{solution.name}" but the lesson '
                    f'starts lab "{start.name}"; keep the name',
                    (*where, "solution", "name"),
                )
            )
        if not any(p.path[:2] == where for p in problems):
            for sentence in drawing_unmet(stage, solution):
                problems.append(
                    error(
                        "lesson-solution",
                        f"stage {index + 1}'s solution does not satisfy its drawing: {sentence}",
                        (*where, "solution"),
                    )
                )
        stages.append(stage)
        documents.append(document)
    if problems or start is None:
        raise fail(problems)
    stem = path.stem if path is not None else FsPath(file or "lesson").stem
    return Lesson(stem, path, parsed.title, parsed.summary, start, tuple(stages), tuple(documents))


def _tree(text: str, file: str | None) -> Any:
    """The round-trip tree (model/yamlfile.py), its complaints said of a lesson."""
    try:
        return _parse_yaml(text, file)
    except TopologyFileError as exc:
        raise TopologyFileError(
            [
                replace(
                    p,
                    message=f'a lesson file is a mapping that starts with "lesson: '
                    f'{LESSON_FORMAT}"; this file is not',
                )
                if p.message.startswith("a topology file is a mapping")
                else p
                for p in exc.problems
            ]
        ) from None


def bundled_lessons() -> list[Lesson]:
    """Every lesson shipped in resources/lessons/, sorted by file name."""
    from nstopo.resources import LESSONS

    return [load_lesson(p) for p in sorted(LESSONS.glob("*.yaml"))]


def stage_document(lesson: Lesson, index: int) -> dict[str, Any]:
    """Stage `index`'s solution with its checks: a topology file's data, for `nstopo test`
    (dump it with ruamel or json; the checks are the file's, as written)."""
    return copy.deepcopy(lesson._documents[index])  # the caller's to change


def _topology(data: dict[str, Any], where: Path, problems: list[Problem]) -> Topology | None:
    lab = parse_lab(data)
    if isinstance(lab, list):
        problems += [_prefixed(p, where) for p in lab]
        return None
    found = [_prefixed(p, where) for p in validate_lab(lab) if p.is_error]
    problems += found
    return None if found else topology_from_lab(lab)


def _prefixed(problem: Problem, where: Path) -> Problem:
    return Problem(problem.severity, problem.rule, problem.message, (*where, *problem.path))


def _stage_path(problem: Problem, where: Path) -> Problem:
    """A problem of the solution-with-checks document, at its place in the stage."""
    if problem.path[:1] == ("checks",):
        solution = f"stage {int(where[1]) + 1}'s solution"
        said = problem.message.replace("which the file does not have", f"which {solution} lacks")
        return _prefixed(replace(problem, message=said), where)
    return _prefixed(problem, (*where, "solution"))


def _lesson_problem(err: Any) -> Problem:
    loc: Path = tuple(err["loc"])
    if loc[:1] == ("start",) or (len(loc) > 3 and loc[0] == "stages" and loc[2] == "solution"):
        return error(
            "bad-value", f"{_where(loc)} should be a topology mapping (nstopo: 1, ...)", loc
        )
    kind, value = err["type"], err.get("input")
    where = _where(loc)
    if kind == "unexpected_keyword_argument":
        owner = _LessonFile
        for item in loc[:-1]:
            owner = _OWNERS.get(str(item), owner)
        keys = ", ".join(f.name for f in fields(owner))
        return error("unknown-key", f"{where} is not a known key; use one of: {keys}", loc)
    if kind in ("missing_argument", "missing"):
        return error("missing-key", f"{where} is required; add it", loc)
    if loc == ("lesson",):
        return error(
            "format-version",
            f"this lesson says lesson: {value!r}; this version of nstopo reads lesson format "
            f"{LESSON_FORMAT}; write lesson: {LESSON_FORMAT}",
            loc,
        )
    message = err["msg"].removeprefix("Value error, ")
    if kind in ("dataclass_type", "dataclass_exact_type", "dict_type"):
        message = "should be a mapping of keys to values"
    elif kind in ("tuple_type", "list_type"):
        message = "should be a list"
    elif kind == "too_short" and loc == ("stages",):
        message = "should list at least one stage"
    message = message[:1].lower() + message[1:]
    shown = "" if isinstance(value, dict | list | tuple) or value is None else f" (got {value!r})"
    return error("bad-value", f"{where}: {message}{shown}; correct the value", loc)


def _where(loc: Path) -> str:
    """A path in words: `stage 2, drawing condition 1, key "on"`."""
    parts: list[str] = []
    rest = list(loc)
    while rest:
        item = rest.pop(0)
        if item == "stages" and rest and isinstance(rest[0], int):
            parts.append(f"stage {rest.pop(0) + 1}")
        elif item == "drawing" and rest and isinstance(rest[0], int):
            parts.append(f"drawing condition {rest.pop(0) + 1}")
        elif isinstance(item, int):
            parts.append(f"item {item + 1}")
        elif not (isinstance(item, str) and item.startswith(("~", "function-"))):
            parts.append(f'key "{item}"')
    return ", ".join(parts) or "the lesson"


def _condition_problem(condition: Condition, where: Path) -> Problem | None:
    said = [k for k in WHAT_KEYS if getattr(condition, k) is not None]
    if len(said) != 1:
        return error(
            "lesson-drawing",
            f"{_where(where)} says {' and '.join(said) or 'nothing'}; give it exactly one of: "
            + ", ".join(WHAT_KEYS),
            where,
        )
    what = said[0]
    allowed = MODIFIERS[what]
    for f in fields(condition):
        if f.name != what and f.name not in allowed and getattr(condition, f.name) is not None:
            fits = ", ".join(allowed) or "nothing else"
            return error(
                "lesson-drawing",
                f'{_where(where)}: "{f.name}" does not go with {what}: (it takes {fits})',
                (*where, f.name),
            )
    if allowed[:1] == ("on",) and condition.on is None:
        return error("lesson-drawing", f"{_where(where)}: {what}: needs on: (which node)", where)
    if what == "sysctl" and condition.value is None:
        return error("lesson-drawing", f"{_where(where)}: sysctl: needs value:", where)
    return None


# -- whether the drawing holds ----------------------------------------------------------------


def drawing_unmet(stage: Stage, topology: Topology) -> list[str]:
    """What the drawing does not show yet, one sentence per unmet condition (empty when
    the drawing holds)."""
    return [s for c in stage.drawing if (s := unmet(c, topology)) is not None]


def unmet(condition: Condition, topology: Topology) -> str | None:
    """None when `condition` holds on `topology`, else a sentence saying what is missing."""
    what = condition.what
    if what == "node":
        return _node_unmet(condition, topology)
    if what == "absent_node":
        name = condition.absent_node
        return f"node {name} is still there; remove it" if name in topology else None
    if what in ("link", "absent_link"):
        ends = condition.link or condition.absent_link
        assert ends is not None
        found = any(_link_matches(link.endpoints, ends) for _, link in topology.links())
        if what == "link":
            return None if found else f"no veth links {ends[0]} and {ends[1]} yet; draw one"
        return f"a veth still links {ends[0]} and {ends[1]}; remove it" if found else None
    if what in ("address", "absent_address"):
        cidr = condition.address or condition.absent_address
        on = condition.on or ""
        there = any(cidr in addresses for addresses in _addresses_on(topology, on))
        if what == "address":
            return None if there else f"{on} does not have the address {cidr} yet; add it"
        return f"{on} still has the address {cidr}; remove it from there" if there else None
    node = topology.get_node(condition.on or "")
    if node is None:
        return f"there is no node {condition.on} yet"
    if what == "route":
        for route in getattr(node, "routes", ()):
            if route.to == condition.route and condition.via in (None, route.via):
                return None
        via = f" via {condition.via}" if condition.via else ""
        return f"{condition.on} has no route to {condition.route}{via} yet; add it"
    if what == "sysctl":
        value = getattr(node, "sysctls", {}).get(condition.sysctl)
        if value is not None and str(value) == str(condition.value):
            return None
        return f"{condition.on} does not set {condition.sysctl} to {condition.value} yet"
    if what == "nat":
        if any(rule.source == condition.nat for rule in getattr(node, "nat", ())):
            return None
        return f"{condition.on} does not masquerade {condition.nat} yet; add a nat: rule"
    return None


def _node_unmet(condition: Condition, topology: Topology) -> str | None:
    name = condition.node
    node = topology.get_node(name or "")
    if node is None:
        kind = f"{condition.kind} " if condition.kind else "node "
        return f"there is no {kind}named {name} yet; draw one"
    if condition.kind is not None and node.kind != condition.kind:
        return f"{name} is a {node.kind}, not a {condition.kind}"
    for key in MODIFIERS["node"][1:]:
        want = getattr(condition, key)
        have = getattr(node, key, None)
        if want is not None and have != want:
            if key in ("bridge", "namespace"):
                return f"{name} is not in {want} yet (its {key}: {have or 'none'}); set it"
            return f"{name}'s {key} is {have}, not {want}; set it to {want}"
    return None


def _link_matches(endpoints: Any, ends: tuple[str, str]) -> bool:
    a, b = endpoints

    def fits(endpoint: Any, end: str) -> bool:
        node, _, interface = end.partition(":")
        return endpoint.node == node and interface in ("", endpoint.interface)

    return (fits(a, ends[0]) and fits(b, ends[1])) or (fits(a, ends[1]) and fits(b, ends[0]))


def _addresses_on(topology: Topology, on: str) -> list[tuple[str, ...]]:
    """The addresses of each interface `on` names: a device's own, all of a namespace's,
    or one interface ("node:interface", the node or the namespace it lives in)."""
    name, _, interface = on.partition(":")
    node = topology.get_node(name)
    if node is None:
        return []
    devices = (BridgeNode, TapNode, TunNode)
    if not interface and isinstance(node, devices):
        return [node.addresses]
    space = namespace_of(topology, name)
    found: list[tuple[str, ...]] = []
    for device, value in topology.nodes():
        in_space = isinstance(value, devices) and namespace_of(topology, device) == space
        if in_space and interface in ("", device):
            found.append(value.addresses)
    for _, link in topology.links():
        for endpoint in link.endpoints:
            if namespace_of(topology, endpoint.node) == space and interface in (
                "",
                endpoint.interface,
            ):
                found.append(endpoint.addresses)
    return found
