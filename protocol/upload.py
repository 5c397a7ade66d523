"""How a client sends a topology too big for one request line: `upload.part` pieces,
then `lab.plan`/`lab.apply` naming the upload (docs/protocol.md)."""

from __future__ import annotations

import itertools
import os
from typing import Any

from .wire import MAX_MESSAGE_BYTES

# Texts up to this many characters go inline in the request.
INLINE_CHARS = MAX_MESSAGE_BYTES // 8
# A piece escapes to at most 6 bytes a character (\u00XX), so its line stays under 1 MiB.
PIECE_CHARS = (MAX_MESSAGE_BYTES - 4096) // 6

_names = itertools.count(1)


def needs_upload(text: str) -> bool:
    return len(text) > INLINE_CHARS


def upload_parts(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A fresh upload name and the `upload.part` params that carry `text`, in order."""
    name = f"{os.getpid()}-{next(_names)}"
    pieces = [text[i : i + PIECE_CHARS] for i in range(0, len(text), PIECE_CHARS)] or [""]
    return name, [{"upload": name, "text": piece} for piece in pieces]
