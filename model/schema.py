"""The topology file's structure, checked by pydantic against the model's dataclasses.

Run `python -m nstopo.model.schema --write` to regenerate the JSON Schema shipped in
`resources/schema/` (a test keeps it in sync).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, fields
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError

from .checks import Check, Scenario, allowed_keys, owner_of
from .names import LAB_NAME_RE
from .netem import Netem
from .problems import Path, Problem, TopologyFileError, error
from .topology import Topology
from .types import (
    NODE_KINDS,
    NODE_TYPES,
    STRICT,
    Endpoint,
    Link,
    NodeField,
    Route,
)

FORMAT_VERSION = 1
SCHEMA_ID = "https://nstopo.dev/schema/topology-1.json"


def _not_true(value: Any) -> Any:
    if isinstance(value, bool):  # Python's True == 1; the schema's const 1 is no boolean
        raise ValueError(f"{str(value).lower()} is no format version")
    return value


@dataclass(frozen=True)
class LabFile:
    """A whole topology file, exactly as design.md §3 describes it."""

    __pydantic_config__ = STRICT
    nstopo: Annotated[Literal[1], BeforeValidator(_not_true)]
    name: Annotated[str, Field(pattern=LAB_NAME_RE.pattern)]
    subnet: str | None = None
    nodes: dict[str, NodeField] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    checks: tuple[Check, ...] = ()  # what `nstopo test` runs (model/checks.py)
    scenarios: tuple[Scenario, ...] = ()


_ADAPTER = TypeAdapter(LabFile)


def json_schema() -> dict[str, Any]:
    schema = _ADAPTER.json_schema()
    for node_type in NODE_TYPES.values():  # `kind` has a Python default, but files must say it
        schema["$defs"][node_type.__name__]["required"] = ["kind"]
    # A tun's `bridge` key exists only so that validate can explain why it is wrong.
    del schema["$defs"]["TunNode"]["properties"]["bridge"]
    schema["$defs"]["Netem"]["dependentRequired"] = {"jitter": ["delay"], "reorder": ["delay"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "nstopo topology",
        **schema,
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def to_document(topology: Topology) -> dict[str, Any]:
    """The topology as plain JSON-able data, in the file's structure (no comments, no
    positions): what clients send the helper and what its registry stores."""
    document = _ADAPTER.dump_python(lab_from_topology(topology), mode="json")
    for key in ("checks", "scenarios"):  # the helper builds labs; tests stay in the file
        document.pop(key, None)
    return document


def topology_from_document(data: Any) -> Topology:
    """The inverse of to_document; raises TopologyFileError (paths, no positions)."""
    parsed = parse_lab(data)
    if isinstance(parsed, list):
        raise TopologyFileError(parsed)
    return topology_from_lab(parsed)


def parse_lab(data: Any) -> LabFile | list[Problem]:
    """The validated file, or the structural problems (with paths, no positions)."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        return [_problem(e) for e in exc.errors(include_url=False)]


def _problem(err: Any) -> Problem:
    loc: Path = tuple(err["loc"])
    path = _file_path(loc)
    where = _describe(path)
    kind, msg = err["type"], err["msg"]
    value = err.get("input")
    if kind == "unexpected_keyword_argument":
        allowed = ", ".join(_allowed_keys(loc))
        return error("unknown-key", f"{where} is not a known key; use one of: {allowed}", path)
    if kind in ("missing_argument", "missing"):
        return error("missing-key", f"{where} is required; add it", path)
    if kind == "union_tag_invalid":
        kinds = ", ".join(NODE_KINDS)
        return error(
            "bad-kind",
            f'{_describe(path)} has kind "{value.get("kind")}"; use one of: {kinds}',
            (*path, "kind"),
        )
    if kind == "union_tag_not_found":
        return error(
            "missing-key", f'{where} has no "kind"; add one of: {", ".join(NODE_KINDS)}', path
        )
    if path == ("nstopo",):
        return error(
            "format-version",
            f"this file says nstopo: {value!r}; this version of "
            f"nstopo reads format {FORMAT_VERSION}; write nstopo: {FORMAT_VERSION}",
            path,
        )
    if path == ("name",) and kind == "string_pattern_mismatch":
        return error(
            "lab-name",
            f'the lab name "{value}" is not valid; use 1-24 lowercase '
            "letters, digits and dashes, starting with a letter or digit",
            path,
        )
    if kind in _MAPPING_ERRORS:
        msg = "should be a mapping of keys to values ({key: value} or one key per line)"
    elif kind in ("tuple_type", "list_type"):  # tuples are how the model keeps lists
        msg = "should be a list ([a, b] or one - item per line)"
    elif kind in ("too_long", "too_short") and "ctx" in err:
        ctx = err["ctx"]
        bound = ctx.get("max_length") if kind == "too_long" else ctx.get("min_length")
        most = "at most" if kind == "too_long" else "at least"
        msg = f"should have {most} {bound} items, not {ctx.get('actual_length')}"
    text = msg.removeprefix("Value error, ")
    text = text[0].lower() + text[1:] if text else text
    return error("bad-value", f"{where}: {text}{_shown(value)}; correct the value", path)


# pydantic's words for "not a mapping" name our Python classes: say it in YAML's terms.
_MAPPING_ERRORS = {
    "dataclass_type",
    "dataclass_exact_type",
    "dict_type",
    "model_type",
    "model_attributes_type",
}


def _shown(value: Any) -> str:
    if isinstance(value, dict | list | tuple) or value is None:
        return ""
    text = repr(value)
    return f" (got {text if len(text) <= 40 else text[:37] + '...'})"


def _file_path(loc: Path) -> Path:
    """Drop pydantic's discriminator tags so the path follows the file's keys."""
    if len(loc) >= 3 and loc[0] == "nodes" and loc[2] in NODE_KINDS:
        return (*loc[:2], *loc[3:])
    return tuple(i for i in loc if not (isinstance(i, str) and i.startswith("~")))  # checks


def _allowed_keys(loc: Path) -> list[str]:
    owner: type = LabFile
    if loc[:1] in (("checks",), ("scenarios",)) and len(loc) >= 3:
        return allowed_keys(owner_of(_file_path(loc)) or LabFile)
    if loc[:1] == ("nodes",) and len(loc) >= 3 and loc[2] in NODE_KINDS:
        owner = NODE_TYPES[str(loc[2])]
        if len(loc) >= 6 and loc[3] == "routes":
            owner = Route
    elif loc[:1] == ("links",) and len(loc) >= 3:
        owner = Endpoint if len(loc) >= 5 and loc[2] == "endpoints" else Link
        if "netem" in loc[:-1]:
            owner = Netem
    return [f.name for f in fields(owner)]


def _describe(path: Path) -> str:
    """Say where in the file a path points, in words: `node "br0", key "mtu"`."""
    if not path:
        return "the file"
    parts: list[str] = []
    rest = list(path)
    if rest[0] == "nodes" and len(rest) >= 2:
        parts.append(f'node "{rest[1]}"')
        rest = rest[2:]
    elif rest[0] == "links" and len(rest) >= 2 and isinstance(rest[1], int):
        parts.append(f"link {rest[1] + 1}")
        rest = rest[2:]
        if len(rest) >= 2 and rest[0] == "endpoints" and isinstance(rest[1], int):
            parts.append(f"endpoint {rest[1] + 1}")
            rest = rest[2:]
    for item in rest:
        parts.append(f"item {item + 1}" if isinstance(item, int) else f'key "{item}"')
    return ", ".join(parts)


describe_path = _describe


def topology_from_lab(lab: LabFile) -> Topology:
    topology = Topology(lab.name, lab.subnet)
    for name, node in lab.nodes.items():
        topology.add_node(name, node)
    for index, link in enumerate(lab.links):
        # Links to missing nodes are kept out of the graph; validate_lab reports them.
        if all(ep.node in topology for ep in link.endpoints):
            topology.add_link(link, f"link-{index}")
    return topology


def lab_from_topology(topology: Topology) -> LabFile:
    return LabFile(
        nstopo=FORMAT_VERSION,
        name=topology.name,
        subnet=topology.subnet,
        nodes=dict(topology.nodes()),
        links=tuple(link for _, link in topology.links()),
    )


def main(argv: list[str]) -> int:
    from nstopo.resources import SCHEMA_FILE

    if argv == ["--write"]:
        SCHEMA_FILE.write_text(json_schema_text())
        print(f"wrote {SCHEMA_FILE}")
    else:
        sys.stdout.write(json_schema_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
