"""A topology as a client sends it: the file's YAML text, read exactly as `nstopo
validate` reads the file (so the command line need not load the model), or the JSON
document the editor sends."""

from __future__ import annotations

from typing import Any

from nstopo.model.problems import TopologyFileError, errors_first
from nstopo.model.topology import Topology
from nstopo.model.yamlfile import parse_text

from .labs import LabError, parse_topology


def read_topology(data: str | dict[str, Any], source: str | None) -> tuple[Topology, list[str]]:
    """A topology sent by a client, and its warnings. YAML text is read as `validate`
    reads a file: every problem placed as source:line:col, errors first; any error
    refuses it with all of them (the client prints them as they are)."""
    if not isinstance(data, str):
        return parse_topology(data), []
    name = source or "<request>"
    try:
        loaded = parse_text(data, name)
    except TopologyFileError as exc:
        problems = errors_first(exc.problems)
    else:
        problems = errors_first(loaded.problems)
        if not any(p.is_error for p in problems):
            return loaded.topology, [p.format() for p in problems]
    errors = sum(p.is_error for p in problems)
    raise LabError(
        "invalid",
        f"{name} has {errors} error{'s' if errors != 1 else ''}; first: {problems[0].message}",
        [p.format() for p in problems],
    )
