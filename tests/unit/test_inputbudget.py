"""The nesting and size budget checked before any parser (model/inputbudget.py)."""

from __future__ import annotations

import io
import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st
from nstopo.model.inputbudget import MAX_DEPTH, check_json, check_yaml
from nstopo.model.problems import TopologyFileError
from nstopo.model.yamlfile import parse_text
from ruamel.yaml import YAML


def nested(depth: int, leaf: object = 1, kinds: str = "ld") -> object:
    value = leaf
    for i in range(depth):
        value = [value] if kinds[i % len(kinds)] == "l" else {"k": value}
    return value


def true_depth(value: object) -> int:
    depth, level = 0, [value]
    while level:
        containers = [v for v in level if isinstance(v, list | dict)]
        if not containers:
            break
        depth += 1
        level = [x for c in containers for x in (c.values() if isinstance(c, dict) else c)]
    return depth


def yaml_text(value: object, flow: bool) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    out = io.StringIO()
    yaml.dump({"nodes": value}, out)
    return out.getvalue()


awkward = st.text(alphabet="[]{}\"\\',: #-\nab", max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 130), st.sampled_from(["l", "d", "ld", "dl"]), awkward)
def test_json_nesting_is_measured_exactly_even_with_brackets_in_strings(
    depth: int, kinds: str, leaf: str
) -> None:
    value = {"params": nested(depth, leaf, kinds)}
    refused = check_json(json.dumps(value).encode())
    assert (refused is not None) == (true_depth(value) > MAX_DEPTH)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 130), st.sampled_from(["l", "d", "ld"]), awkward, st.booleans())
def test_yaml_nesting_is_measured_in_flow_and_block_style(
    depth: int, kinds: str, leaf: str, flow: bool
) -> None:
    text = yaml_text(nested(depth, leaf, kinds), flow)
    refused = check_yaml(text)
    assert (refused is not None) == (depth + 1 > MAX_DEPTH)


def test_deep_nesting_is_refused_before_parsing_with_file_line_col() -> None:
    text = "nstopo: 1\nname: x\nnodes: " + "[" * 33_000 + "]" * 33_000 + "\n"
    started = time.perf_counter()
    try:
        parse_text(text, "deep.yaml")
    except TopologyFileError as exc:
        (problem,) = exc.problems
    else:
        raise AssertionError("a 33,000-deep file was accepted")
    assert time.perf_counter() - started < 1.0
    assert problem.rule == "budget" and (problem.file, problem.line) == ("deep.yaml", 3)
    assert problem.col == 8 + MAX_DEPTH - 1  # the first bracket past the budget
    assert f"more than {MAX_DEPTH} levels deep" in problem.message


def test_a_quote_in_a_plain_scalar_cannot_hide_nesting() -> None:
    # Pattern scanners that strip "strings" get this wrong: the quotes are plain text.
    text = 'x: a "\nnodes: ' + "[" * 100 + "]" * 100 + '\nz: b "\n'
    assert check_yaml(text) is not None


def test_text_libyaml_rejects_is_still_measured() -> None:
    text = "x: [a:b]\nnodes: " + "[" * 5000 + "]" * 5000 + "\n"  # [a:b]: YAML 1.2 only
    assert check_yaml(text) is not None


def test_pathological_strings_scan_in_linear_time() -> None:
    started = time.perf_counter()
    for data in (b'"' + b'\\"' * 400_000, b' "' * 400_000, b"[" + b"[]," * 300_000 + b"1]"):
        assert check_json(data) is None
    assert time.perf_counter() - started < 2.0


def test_an_absurdly_large_text_is_refused_by_size() -> None:
    refused = check_yaml("#" * (16 * 1024 * 1024 + 1))
    assert refused is not None and "larger than 16 MiB" in refused.message
