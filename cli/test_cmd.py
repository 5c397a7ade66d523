"""`nstopo test FILE [--keep] [--junit OUT] [--json]`: build the lab, run its checks and
scenarios, one PASS/FAIL line each; exit 0 when all pass, 1 otherwise.

A lab that already runs is changed to match the file (apply is idempotent: a lab that
matches is used as it is) and left running afterwards, as it was before, restored to
the file if a scenario changed it; a lab this command built is removed unless --keep.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from nstopo.backend.checkrunner import CheckRunner, Outcome
from nstopo.model.problems import TopologyFileError, errors_first
from nstopo.model.schema import to_document
from nstopo.model.yamlfile import load
from nstopo.protocol.methods import Method

from .common import CliError, ProblemsFound
from .online import _client


def cmd_test(args: argparse.Namespace) -> int:
    try:
        loaded = load(args.file)
    except TopologyFileError as exc:
        raise ProblemsFound(args.file, [p.format() for p in exc.problems]) from None
    errors = [p for p in loaded.problems if p.is_error]
    if errors:
        raise ProblemsFound(args.file, [p.format() for p in errors_first(errors)])
    if not loaded.checks and not loaded.scenarios:
        raise CliError(f"{args.file} has no checks: and no scenarios:; add some to test it")
    topology = loaded.topology
    out = sys.stderr if args.json else sys.stdout
    outcomes: list[Outcome] = []
    with _client() as client:
        was_running = topology.name in {lab["lab"] for lab in client.call(Method.LAB_STATUS, {})}
        client.call(Method.LAB_APPLY, {"topology": to_document(topology), "source": args.file})
        runner = CheckRunner(client, topology.copy(), Path(args.file).resolve().parent)
        try:
            for check in loaded.checks:
                outcomes.append(_said(runner.run_check(check), out))
            named = {c.name: c for c in loaded.checks}
            for scenario in loaded.scenarios:
                print(f"scenario {scenario.name}", file=out)
                for item in runner.run_scenario(scenario, named):
                    if isinstance(item, str):
                        print(f"  -- {item}", file=out)
                    else:
                        outcomes.append(_said(item, out))
        finally:
            if was_running or args.keep:
                if runner.topology != topology:  # a scenario changed it: as the file says
                    client.call(Method.LAB_APPLY, {"topology": to_document(topology)})
            else:
                client.call(Method.LAB_DESTROY, {"lab": topology.name, "force": True})
    failed = sum(not o.passed for o in outcomes)
    print(
        f"{topology.name}: {len(outcomes) - failed} passed, {failed} failed"
        + (" (the lab is left running)" if was_running or args.keep else ""),
        file=out,
    )
    if args.json:
        print(json.dumps([_as_json(o) for o in outcomes], indent=2))
    if args.junit:
        write_junit(args.junit, topology.name, outcomes)
    return 1 if failed else 0


def _said(outcome: Outcome, out: object) -> Outcome:
    print(outcome.line(outcome.title), file=out, flush=True)  # type: ignore[call-overload]
    return outcome


def _as_json(outcome: Outcome) -> dict[str, object]:
    return {
        "name": outcome.name,
        "scenario": outcome.scenario,
        "passed": outcome.passed,
        "evidence": outcome.evidence,
        "seconds": round(outcome.seconds, 3),
        "tries": outcome.tries,
    }


def junit_xml(lab: str, outcomes: list[Outcome]) -> bytes:
    """The results as JUnit XML (the Ant/Jenkins schema): one testsuite per lab."""
    failed = sum(not o.passed for o in outcomes)
    total = sum(o.seconds for o in outcomes)
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites, "testsuite",
        name=lab, tests=str(len(outcomes)), failures=str(failed), errors="0", skipped="0",
        time=f"{total:.3f}", timestamp=_now(), hostname="localhost", id="0", package=lab,
    )  # fmt: skip
    ET.SubElement(suite, "properties")
    for outcome in outcomes:
        case = ET.SubElement(
            suite, "testcase",
            classname=f"{lab}.{outcome.scenario}" if outcome.scenario else lab,
            name=outcome.name, time=f"{outcome.seconds:.3f}",
        )  # fmt: skip
        if not outcome.passed:
            failure = ET.SubElement(case, "failure", message=outcome.evidence, type="check")
            failure.text = outcome.evidence
    ET.SubElement(suite, "system-out")
    ET.SubElement(suite, "system-err")
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def write_junit(path: str, lab: str, outcomes: list[Outcome]) -> None:
    try:
        Path(path).write_bytes(junit_xml(lab, outcomes))
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}; check the path") from None


def _now() -> str:
    import datetime

    return datetime.datetime.now().replace(microsecond=0).isoformat()
