"""The bundled example labs as a newcomer meets them: a title and an explanation (the
file's header comment, which is where each example says what to try), and the
experiment those comments describe as `nstopo` command lines.

Used by the editor's welcome view (the explanation, shown in the app) and by
`scripts/run-example` (which runs the experiment for real in a sandbox)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

# Commands of an experiment that need nothing but a running lab.
EXPERIMENT_COMMANDS = ("ping", "capture", "status", "plan", "apply", "show")
_COMMAND = re.compile(r"nstopo\s+(.+?)(?=\s{2,}|\s+->|\s+&&|`|\)|$)", re.MULTILINE)
_FIX = re.compile(r"\bfix is ([a-z0-9-]+)\.yaml")


@dataclass(frozen=True)
class Example:
    name: str  # the file's stem: what `scripts/run-example NAME` takes
    path: Path
    title: str  # the header's first sentence
    explanation: str  # the whole header comment, as text
    commands: tuple[tuple[str, ...], ...]  # the "Try:" command lines, without `nstopo`
    fix: str | None  # the example that fixes this one ("The fix is X.yaml"), if any


def header_comment(text: str) -> str:
    """The comment block a file starts with, without its `#` marks."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].removeprefix(" "))
    return "\n".join(lines).strip()


def experiment_commands(explanation: str) -> tuple[tuple[str, ...], ...]:
    """The `nstopo ...` commands the explanation tells a reader to try, in order
    (each once; a command needs arguments: "`nstopo validate` warns" names no lab)."""
    found: list[tuple[str, ...]] = []
    for match in _COMMAND.finditer(explanation):
        try:
            words = tuple(shlex.split(match.group(1)))
        except ValueError:
            continue
        if len(words) >= 2 and words[0] in EXPERIMENT_COMMANDS and words not in found:
            found.append(words)
    return tuple(found)


def read_example(path: Path) -> Example:
    explanation = header_comment(path.read_text())
    first = explanation.split("\n")[0]
    title = first.split(": ", 1)[1] if ": " in first[:40] else first
    fix = _FIX.search(explanation)
    return Example(
        name=path.stem,
        path=path,
        title=title[:1].upper() + title[1:],
        explanation=explanation,
        commands=experiment_commands(explanation),
        fix=fix.group(1) if fix else None,
    )


def bundled_examples(folder: Path) -> list[Example]:
    """Every example in `folder`, simplest first (the study notes' order: the
    experiment number in the title), the rest by name."""

    def order(example: Example) -> tuple[int, int, str]:
        number = re.search(r"Experiment (\d+)", example.explanation)
        fixed = (
            example.explanation.startswith(f"Experiment {number.group(1)}, fixed")
            if number
            else False
        )
        # Within one experiment the pitfall comes before its fix.
        return (int(number.group(1)) if number else 99, int(fixed), example.name)

    return sorted((read_example(p) for p in folder.glob("*.yaml")), key=order)
