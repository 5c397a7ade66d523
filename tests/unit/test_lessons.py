"""The lesson reader (model/lessons.py): file:line:col errors, drawing conditions, and
every bundled lesson's solutions (their kernel checks run in
tests/integration/test_lessons_run.py)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from nstopo.model.lessons import (
    Condition,
    Lesson,
    Stage,
    bundled_lessons,
    drawing_unmet,
    load_lesson,
    parse_lesson,
    stage_document,
)
from nstopo.model.problems import TopologyFileError
from nstopo.model.schema import parse_lab
from nstopo.model.validate import validate_lab
from nstopo.model.yamlfile import parse_text
from pydantic import TypeAdapter
from ruamel.yaml import YAML

GOOD = """\
lesson: 1
title: A bridge
summary: Draw a bridge.
start: {nstopo: 1, name: demo}
stages:
  - title: The bridge
    explain: A bridge is a switch in the kernel.
    task: Draw br0 in hub, a, and a veth between them.
    drawing:
      - {node: br0, kind: bridge, namespace: hub}
      - {link: [a, br0]}
      - {address: 10.77.0.1/24, on: br0}
      - {absent_address: 10.77.0.1/24, on: "hub:p0"}
    checks:
      - name: a reaches br0
        ping: {from: a, to: 10.77.0.1}
    solution:
      nstopo: 1
      name: demo
      nodes:
        hub: {kind: netns}
        br0: {kind: bridge, namespace: hub, addresses: [10.77.0.1/24]}
        a: {kind: netns}
      links:
        - endpoints: ["br0:p0", {node: a, interface: eth0, addresses: [10.77.0.2/24]}]
"""


def _load(tmp_path: Path, text: str) -> Lesson:
    path = tmp_path / "lesson.yaml"
    path.write_text(text)
    return load_lesson(path)


def _error(tmp_path: Path, text: str) -> tuple[str, str]:
    with pytest.raises(TopologyFileError) as caught:
        _load(tmp_path, text)
    first = caught.value.problems[0]
    return first.location().removeprefix(str(tmp_path / "lesson.yaml")), first.message


def test_a_good_lesson_loads(tmp_path: Path) -> None:
    lesson = _load(tmp_path, GOOD)
    assert (lesson.name, lesson.title, lesson.summary) == ("lesson", "A bridge", "Draw a bridge.")
    assert lesson.start.name == "demo" and len(lesson.start) == 0
    (stage,) = lesson.stages
    assert stage.title == "The bridge" and stage.task.startswith("Draw br0")
    assert [c.what for c in stage.drawing] == ["node", "link", "address", "absent_address"]
    assert [c.name for c in stage.checks] == ["a reaches br0"]
    assert stage.checks[0].ping is not None and stage.checks[0].ping.to == "10.77.0.1"
    assert sorted(stage.solution.node_names()) == ["a", "br0", "hub"]
    assert drawing_unmet(stage, stage.solution) == []
    document = stage_document(lesson, 0)
    assert document["checks"][0]["name"] == "a reaches br0"
    assert parse_text_checks(document) == ("a reaches br0",)


def parse_text_checks(document: dict) -> tuple[str, ...]:
    lab = parse_lab(document)
    assert not isinstance(lab, list)
    assert [p for p in validate_lab(lab) if p.is_error] == []
    return tuple(c.name for c in lab.checks)


@pytest.mark.parametrize(
    ("old", "new", "where", "said"),
    [
        ("lesson: 1", "lesson: 2", ":1:1", "reads lesson format 1"),
        ("title: A bridge\n", "titel: A bridge\n", ":2:1", '"titel" is not a known key'),
        ("    task: Draw", "    tasks: Draw", ":8:5", 'stage 1, key "tasks" is not a known'),
        ("      - {link: [a, br0]}", "      - {link: [a, br0], on: a}", ":11:26", '"on" does'),
        ("      - {link: [a, br0]}", "      - {}", ":11:9", "drawing condition 2 says nothing"),
        ("      - {link: [a, br0]}", "      - {link: a}", ":11:10", "drawing condition 2"),
        (
            "        ping: {from: a,",
            "        ping: {from: x,",
            ":16:16",
            'names node "x", which stage 1\'s solution lacks',
        ),
        ("        ping: {from", "        pong: {from", ":16:9", '"pong" is not a known key'),
        ("        hub: {kind: netns}", "        hub: {kind: netnz}", ":21:15", 'kind "netnz"'),
        ("      name: demo\n      nodes", "      name: other\n      nodes", ":19:7", "keep the"),
        ("addresses: [10.77.0.1/24]}", "addresses: []}", ":17:5", "does not have the address"),
        ("start: {nstopo: 1, name: demo}", "start: {nstopo: 1, name: demo, x: 1}", ":4:32", "x"),
        ("    solution:\n", "    solution:\n      checks: []\n", ":18:7", "checks:"),
        (GOOD[GOOD.index("    drawing:") : GOOD.index("    solution:")], "", ":6:5", "at once"),
    ],
)
def test_each_error_names_its_line_and_column(
    tmp_path: Path, old: str, new: str, where: str, said: str
) -> None:
    assert old in GOOD
    location, message = _error(tmp_path, GOOD.replace(old, new, 1))
    assert location == where, message
    assert said in message


def test_a_missing_key_and_bad_yaml_and_a_missing_file(tmp_path: Path) -> None:
    location, message = _error(tmp_path, GOOD.replace("summary: Draw a bridge.\n", ""))
    assert (location, message) == (":1:1", 'key "summary" is required; add it')
    location, message = _error(tmp_path, GOOD.replace("stages:", "stages: [", 1))
    assert location.startswith(":") and "not valid YAML" in message
    assert _error(tmp_path, "- lesson: 1\n") == (
        ":1:1",
        'a lesson file is a mapping that starts with "lesson: 1"; this file is not',
    )
    with pytest.raises(TopologyFileError, match="cannot read the lesson"):
        load_lesson(tmp_path / "none.yaml")


def test_a_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "lesson.yaml"
    path.write_bytes(GOOD.encode().replace(b"Draw a bridge.", b"Draw a \xff bridge."))
    with pytest.raises(TopologyFileError) as caught:
        load_lesson(path)
    (problem,) = caught.value.problems
    assert problem.line == 3 and "not UTF-8" in problem.message


def test_stage_document_is_a_copy(tmp_path: Path) -> None:
    lesson = _load(tmp_path, GOOD)
    stage_document(lesson, 0)["checks"][0]["name"] = "changed"
    assert stage_document(lesson, 0)["checks"][0]["name"] == "a reaches br0"


def test_no_stages_is_an_error(tmp_path: Path) -> None:
    text = GOOD[: GOOD.index("stages:")] + "stages: []\n"
    assert _error(tmp_path, text) == (
        ":5:1",
        'key "stages": should list at least one stage; correct the value',
    )


SOLUTION = """\
nstopo: 1
name: demo
nodes:
  hub: {kind: netns, loopback: down, routes: [{to: default, via: 10.77.0.9}],
        sysctls: {net.ipv4.ip_forward: 1}, nat: [10.77.0.0/24]}
  br0: {kind: bridge, namespace: hub}
  tap0: {kind: tap, namespace: hub, bridge: br0}
  a: {kind: netns}
links:
  - endpoints: [{node: br0, interface: p0, addresses: [10.77.0.1/24]}, "a:eth0"]
"""


def _unmet(condition: str) -> list[str]:
    """drawing_unmet of a stage with this one condition, on SOLUTION."""
    text = GOOD.replace(
        "      - {node: br0, kind: bridge, namespace: hub}\n", f"      - {condition}\n"
    )
    stage = Stage(**{**_stage_fields(), "drawing": _conditions(text)})
    return drawing_unmet(stage, parse_text(SOLUTION).topology)


def _stage_fields() -> dict:
    stage = parse_lesson(GOOD).stages[0]
    return {f.name: getattr(stage, f.name) for f in fields(stage)}


def _conditions(text: str) -> tuple[Condition, ...]:
    """The first drawing condition of the lesson text, read by the lesson reader."""
    data = YAML(typ="safe").load(text)
    return (TypeAdapter(Condition).validate_python(data["stages"][0]["drawing"][0]),)


@pytest.mark.parametrize(
    ("condition", "sentences"),
    [
        ("{node: hub, kind: netns, loopback: down}", []),
        ("{node: hub, loopback: up}", ["hub's loopback is down, not up; set it to up"]),
        ("{node: ns9, kind: netns}", ["there is no netns named ns9 yet; draw one"]),
        ("{node: br0, kind: tap}", ["br0 is a bridge, not a tap"]),
        ("{node: tap0, bridge: br0, namespace: hub}", []),
        ("{node: a, namespace: hub}", ["a is not in hub yet (its namespace: none); set it"]),
        ("{absent_node: tap0}", ["node tap0 is still there; remove it"]),
        ("{absent_node: tap9}", []),
        ("{link: [a, br0]}", []),
        ('{link: ["a:eth0", "br0:p0"]}', []),
        ('{link: ["a:eth1", br0]}', ["no veth links a:eth1 and br0 yet; draw one"]),
        ("{absent_link: [br0, a]}", ["a veth still links br0 and a; remove it"]),
        (
            "{address: 10.77.0.1/24, on: br0}",
            ["br0 does not have the address 10.77.0.1/24 yet; add it"],
        ),
        ("{address: 10.77.0.1/24, on: hub}", []),
        ('{address: 10.77.0.1/24, on: "hub:p0"}', []),
        (
            '{absent_address: 10.77.0.1/24, on: "hub:p0"}',
            ["hub:p0 still has the address 10.77.0.1/24; remove it from there"],
        ),
        ("{absent_address: 10.77.0.1/24, on: a}", []),
        ("{route: default, via: 10.77.0.9, on: hub}", []),
        ("{route: default, on: a}", ["a has no route to default yet; add it"]),
        (
            "{route: default, via: 10.77.0.1, on: hub}",
            ["hub has no route to default via 10.77.0.1 yet; add it"],
        ),
        ("{sysctl: net.ipv4.ip_forward, value: 1, on: hub}", []),
        (
            "{sysctl: net.ipv4.ip_forward, value: 1, on: a}",
            ["a does not set net.ipv4.ip_forward to 1 yet"],
        ),
        ("{nat: 10.77.0.0/24, on: hub}", []),
        (
            "{nat: 10.78.0.0/24, on: hub}",
            ["hub does not masquerade 10.78.0.0/24 yet; add a nat: rule"],
        ),
        ("{nat: 10.78.0.0/24, on: nowhere}", ["there is no node nowhere yet"]),
    ],
)
def test_drawing_unmet_says_what_is_missing(condition: str, sentences: list[str]) -> None:
    assert _unmet(condition) == sentences


def test_every_bundled_lesson_loads_and_its_solutions_hold() -> None:
    lessons = bundled_lessons()
    assert lessons, "no lesson in resources/lessons"
    assert [lesson.name for lesson in lessons] == sorted(lesson.name for lesson in lessons)
    for lesson in lessons:
        assert lesson.stages and lesson.title and lesson.summary
        names = {lesson.start.name}
        for index, stage in enumerate(lesson.stages):
            where = f"{lesson.name} stage {index + 1}"
            assert stage.explain.strip() and stage.task.strip(), where
            assert stage.drawing or stage.checks, f"{where} notices nothing"
            assert drawing_unmet(stage, stage.solution) == [], where
            names.add(stage.solution.name)
            lab = parse_lab(stage_document(lesson, index))
            assert not isinstance(lab, list), where
            assert [p.format() for p in validate_lab(lab) if p.is_error] == [], where
        assert len(names) == 1, f"{lesson.name}: one lab name throughout"
        # never an example's lab name: deploying the lesson must not reshape that lab
        assert lesson.start.name.startswith("lesson-"), lesson.name
        # each stage asks for something its start did not have yet
        before = lesson.start
        for index, stage in enumerate(lesson.stages):
            if stage.drawing:
                assert drawing_unmet(stage, before), f"{lesson.name} stage {index + 1}"
            before = stage.solution
