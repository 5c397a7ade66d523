"""Every bundled lesson, stage by stage, against a real helper in a sandbox (root):
`nstopo test` on each stage's solution with that stage's checks passes, and the same
checks fail on the previous stage's solution (the lab as the learner has it before
doing the task), so they notice the task being done. The lab is applied stage after
stage, as the learner's Apply does, and nothing is left afterwards (issue 18)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helper_process import NSTOPO, RunningHelper
from nstopo.model.lessons import Lesson, bundled_lessons, stage_document
from nstopo.model.schema import to_document
from sandbox import needs_root
from test_checks_run import leftovers, nstopo_test

pytestmark = needs_root
LESSONS = bundled_lessons()
QUICK = 2  # seconds a check may retry where it is expected to fail


def run(helper: RunningHelper, path: Path, document: dict[str, Any], *args: str) -> list[dict]:
    path.write_text(json.dumps(document))  # JSON is YAML
    done = nstopo_test(helper, "--json", *args, str(path))
    assert done.returncode in (0, 1) and done.stdout, done.stdout + done.stderr
    results = json.loads(done.stdout)
    assert results, done.stderr
    assert (done.returncode == 1) == any(not r["passed"] for r in results)
    return results


def failing_document(lesson: Lesson, index: int) -> dict[str, Any] | None:
    """The previous stage's solution (or the start) with this stage's checks that name
    only nodes it has, each retried briefly; None when no check fits."""
    before = lesson.start if index == 0 else lesson.stages[index - 1].solution
    document = to_document(before)
    stage = lesson.stages[index]
    checks = [
        {**raw, "timeout": QUICK}
        for raw, check in zip(stage_document(lesson, index)["checks"], stage.checks, strict=True)
        if all(node in before for node in check.nodes() if node in stage.solution)
    ]
    return {**document, "checks": checks} if checks else None


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.name)
def test_each_stage_passes_on_its_solution_and_fails_before(
    helper: RunningHelper, tmp_path: Path, lesson: Lesson
) -> None:
    assert lesson.stages[-1].checks, f"{lesson.name}: the final stage checks nothing"
    before = leftovers(helper)
    try:
        failable = walk(helper, tmp_path, lesson)
    finally:
        destroy = subprocess.run(
            [NSTOPO, "destroy", lesson.start.name],
            env={**os.environ, "NSTOPO_SOCKET": str(helper.socket)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert destroy.returncode == 0, destroy.stderr
    # every stage after the first changes the kernel: its checks must be able to fail
    assert failable >= len([s for s in lesson.stages[1:] if s.checks]), lesson.name
    assert leftovers(helper) == before


def walk(helper: RunningHelper, tmp_path: Path, lesson: Lesson) -> int:
    """Each stage's checks before and after its task; how many could be run before."""
    failable = 0
    for index, stage in enumerate(lesson.stages):
        where = f"{lesson.name} stage {index + 1} ({stage.title})"
        if stage.checks and (document := failing_document(lesson, index)) is not None:
            results = run(helper, tmp_path / f"before-{index}.yaml", document, "--keep")
            assert any(not r["passed"] for r in results), f"{where}: passes before the task"
            failable += 1
        if not stage.checks:
            continue
        document = stage_document(lesson, index)
        results = run(helper, tmp_path / f"stage-{index}.yaml", document, "--keep")
        failed = [f"{r['name']}: {r['evidence']}" for r in results if not r["passed"]]
        assert failed == [], where
        assert [r["name"] for r in results] == [c.name for c in stage.checks]
    return failable
