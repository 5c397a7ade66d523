"""Problems found in a topology: what is wrong, where, which rule, how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Severity = Literal["error", "warning"]
PathItem = str | int
Path = tuple[PathItem, ...]


@dataclass(frozen=True)
class Problem:
    """One finding. `message` is a single sentence that ends with the fix."""

    severity: Severity
    rule: str
    message: str
    path: Path = ()
    file: str | None = None
    line: int | None = None  # 1-based
    col: int | None = None  # 1-based

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def at(self, file: str | None, line: int | None, col: int | None) -> Problem:
        return replace(self, file=file, line=line, col=col)

    def location(self) -> str:
        parts = [self.file or "<topology>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def format(self) -> str:
        return f"{self.location()}: {self.severity}: {self.message} [{self.rule}]"


def error(rule: str, message: str, path: Path = ()) -> Problem:
    return Problem("error", rule, message, path)


def warning(rule: str, message: str, path: Path = ()) -> Problem:
    return Problem("warning", rule, message, path)


def errors_first(problems: list[Problem]) -> list[Problem]:
    """The order `validate` prints problems in: errors, then warnings, each by position."""
    return sorted(problems, key=lambda p: (not p.is_error, p.line or 0, p.col or 0))


class TopologyFileError(Exception):
    """A file that could not be turned into a topology; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.format() for p in problems))
