"""Does a value have the shape of a protocol type? Strict (unknown keys are problems):
for tests and debugging, not for a client reading a newer helper."""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, get_args, get_origin, get_type_hints, is_typeddict


def conforms(tp: Any, value: Any, where: str = "$") -> list[str]:
    """Every way `value` differs from `tp`, one line each naming where (empty: it fits)."""
    if tp is Any:
        return []
    if tp is None or tp is type(None):
        return [] if value is None else [f"{where}: {value!r} is not null"]
    if is_typeddict(tp):
        return _typed_dict(tp, value, where)
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = get_args(tp)
        if any(not conforms(option, value, where) for option in options):
            return []
        return [f"{where}: {value!r} is none of {', '.join(map(_name, options))}"]
    if origin is Literal:
        return [] if value in get_args(tp) else [f"{where}: {value!r} not in {get_args(tp)}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__} is not a list"]
        (item,) = get_args(tp)
        return [p for i, x in enumerate(value) for p in conforms(item, x, f"{where}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__} is not an object"]
        key_type, item = get_args(tp)
        found = [f"{where}: key {k!r} is not a {_name(key_type)}" for k in value
                 if not isinstance(k, key_type)]  # fmt: skip
        return found + [p for k, x in value.items() for p in conforms(item, x, f"{where}.{k}")]
    if tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp in (dict, list, str, bool):
        ok = isinstance(value, tp)
    else:
        raise TypeError(f"conforms() does not know {tp!r}")
    return [] if ok else [f"{where}: {value!r} is not a {_name(tp)}"]


def _typed_dict(tp: Any, value: Any, where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: {type(value).__name__} is not an object ({tp.__name__})"]
    hints = get_type_hints(tp)
    problems = [f"{where}: {tp.__name__} has no key {k!r}" for k in value if k not in hints]
    problems += [f"{where}: {tp.__name__} needs {k!r}" for k in sorted(tp.__required_keys__)
                 if k not in value]  # fmt: skip
    for key, hint in hints.items():
        if key in value:
            problems += conforms(hint, value[key], f"{where}.{key}")
    return problems


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp)
