"""The shipped JSON Schema and `nstopo validate` agree: a corpus of invalid files
(tests/data/invalid) is rejected by both, files on the edges are accepted by both,
and validate's messages speak of the file, not of the validator's internals."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from nstopo.model.problems import Problem, TopologyFileError
from nstopo.model.yamlfile import parse_text
from nstopo.resources import SCHEMA_FILE
from ruamel.yaml import YAML

INVALID = sorted((Path(__file__).resolve().parents[1] / "data" / "invalid").glob("*.yaml"))
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
# pydantic's own words, which mean nothing to someone editing a YAML file.
INTERNALS = ("valid tuple", 'key "int"', 'key "str"', "function-", "tagged-union",
             "dataclass", "Input should", "after validation", "[type=")  # fmt: skip
HEAD = "nstopo: 1\nname: lab\n"


def schema_errors(text: str) -> list[str]:
    # The pure-Python reader, as nstopo's: libyaml refuses `[a:e0, b:e0]` in flow style.
    data = YAML(typ="safe", pure=True).load(text)
    return [e.message for e in VALIDATOR.iter_errors(data)]


def nstopo_errors(text: str) -> list[Problem]:
    try:
        problems = parse_text(text, "lab.yaml").problems
    except TopologyFileError as exc:
        problems = exc.problems
    return [p for p in problems if p.is_error]


def test_the_corpus_is_big_enough() -> None:
    assert len(INVALID) >= 30


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_both_reject_each_invalid_file_in_the_files_terms(path: Path) -> None:
    text = path.read_text()
    assert schema_errors(text), "the JSON Schema accepts it"
    errors = nstopo_errors(text)
    assert errors, "nstopo validate accepts it"
    for problem in errors:
        assert problem.line is not None, problem.format()  # file:line:col
        assert not [word for word in INTERNALS if word in problem.message], problem.message


@pytest.mark.parametrize(
    "body",
    [
        "nodes:\n  br0: {kind: bridge, mtu: 1500.0}\n",  # a whole number, in JSON too
        "nodes:\n  a: {kind: netns, position: [1, 2.5], sysctls: {net.ipv4.ip_forward: '1'}}\n",
        "nodes:\n  a: {kind: netns, sysctls: {net.ipv4.ip_forward: 1}}\n",
        "nodes:\n  br0: {kind: bridge, mtu: null, mac: null}\n",
        "nodes:\n  a: {kind: netns}\nlinks:\n  - endpoints: [a:e0, {node: a, interface: e1}]\n",
    ],
)
def test_both_accept_the_edges(body: str) -> None:
    assert schema_errors(HEAD + body) == []
    assert nstopo_errors(HEAD + body) == []


def test_a_format_version_of_1_0_is_1_in_both() -> None:
    text = "nstopo: 1.0\nname: lab\n"
    assert schema_errors(text) == [] and nstopo_errors(text) == []
