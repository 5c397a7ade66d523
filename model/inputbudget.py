"""A nesting and size budget checked before any parser sees untrusted text.

Tree builders recurse: ruamel's composer (in C for libyaml) and the JSON decoder
build nested containers by recursion, and a 66 KB `[[[[...]]]]` crashed the
helper's worker thread (depth 33,000); depths of a few thousand cost seconds of
CPU. A topology nests about six levels, so anything past `MAX_DEPTH` is refused
here, before any tree is built, by scans that never recurse and stop at the first
level too deep.
"""

from __future__ import annotations

import itertools
import operator
import re
from dataclasses import dataclass

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

MAX_DEPTH = 64
MAX_TEXT_CHARS = 16 * 1024 * 1024  # a topology's YAML text (the file limit of yamlfile.py)

# A string, or an unterminated one up to the end; possessive, so the scan is linear.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+\\?(?:"|\Z)', re.DOTALL)
_JSON_BRACKETS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_PURE_EVENTS = YAML(typ="safe", pure=True)
try:
    _FAST_EVENTS = YAML(typ="safe", pure=False)
except (ImportError, AttributeError):  # pragma: no cover - no libyaml
    _FAST_EVENTS = _PURE_EVENTS


@dataclass(frozen=True)
class OverBudget:
    """Why a text was refused, and where (a character offset into it)."""

    message: str
    offset: int = 0

    def line_col(self, text: str) -> tuple[int, int]:
        line = text.count("\n", 0, self.offset) + 1
        return line, self.offset - (text.rfind("\n", 0, self.offset) + 1) + 1


def check_json(data: bytes, max_depth: int = MAX_DEPTH) -> OverBudget | None:
    """Refuse a JSON text whose arrays and objects nest deeper than `max_depth`."""
    brackets = _JSON_STRING.sub(b"", data).translate(_JSON_BRACKETS, _NOT_BRACKETS)
    if not brackets:
        return None
    depth = max(itertools.accumulate(map(operator.sub, brackets, itertools.repeat(1))))
    if depth > max_depth:
        return OverBudget(
            f"the message nests {depth} levels deep; at most {max_depth} are accepted"
        )
    return None


def check_yaml(text: str, max_depth: int = MAX_DEPTH) -> OverBudget | None:
    """Refuse a YAML text that is absurdly large or whose collections (flow or block)
    nest deeper than `max_depth`.

    YAML cannot be scanned soundly with patterns (whether a quote opens a scalar
    depends on the context), so this walks the parser's event stream: libyaml's
    parser and ruamel's pure one are state machines that never recurse; only the
    tree builders after them do, and they run once this has passed. Text libyaml
    rejects is walked again by the pure parser, which yamlfile.py falls back to."""
    if len(text) > MAX_TEXT_CHARS:
        return OverBudget(f"the text is larger than {MAX_TEXT_CHARS >> 20} MiB")
    for parser in (_FAST_EVENTS, _PURE_EVENTS):
        try:
            return _walk(parser, text, max_depth)
        except YAMLError:
            continue  # the tree builder reports the syntax error, at a shallow depth
        except (ValueError, TypeError):
            return None
    return None


def _walk(yaml: YAML, text: str, max_depth: int) -> OverBudget | None:
    depth = 0
    for event in yaml.parse(text):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > max_depth:
                mark = event.start_mark
                return OverBudget(
                    f"the text nests more than {max_depth} levels deep; "
                    "a topology needs far fewer: flatten it",
                    getattr(mark, "index", 0) if mark is not None else 0,
                )
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    return None
