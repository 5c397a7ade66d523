"""What every command shares: the one-sentence error, problem lines, plurals."""

from __future__ import annotations

import re
import sys


class CliError(Exception):
    """A foreseeable failure: its message is the one sentence the user sees (exit 1)."""


class ProblemsFound(Exception):
    """A topology with errors: its problem lines (errors first) are printed as they
    are, then `validate`'s summary line (exit 1)."""

    def __init__(self, file: str, lines: list[str]) -> None:
        super().__init__(f"{file}: {len(lines)} problems")
        self.file, self.lines = file, lines


def print_problems(file: str, lines: list[str], summary: bool = True) -> int:
    """Print problem lines as `validate` does; returns how many are errors."""
    for line in lines:
        print(line, file=sys.stderr)
    severity = re.compile(re.escape(file) + r"(:\d+)*: error: ")
    errors = sum(1 for line in lines if severity.match(line))
    if summary and errors:
        warnings = count(len(lines) - errors, "warning")
        print(f"{file}: {count(errors, 'error')}, {warnings}", file=sys.stderr)
    return errors


def count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
