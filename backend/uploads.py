"""Topologies larger than one request line (1 MiB): the client sends the text in
`upload.part` pieces, then names the upload in `lab.plan`/`lab.apply`.

An upload belongs to its connection and ends with it. Memory is budgeted in
characters: 16 MiB an upload (the largest topology text the model reads), four at a
time on one connection, 64 MiB over all connections together."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any

from nstopo.model.inputbudget import MAX_TEXT_CHARS, check_json
from nstopo.model.types import STRICT
from nstopo.protocol.errors import ErrorCode, RpcError
from pydantic import Field

from . import jsonrpc as rpc

UPLOADS_PER_SESSION = 4
ALL_UPLOADS_CHARS = 64 << 20

UploadName = Annotated[str, Field(min_length=1, max_length=64)]


@dataclass(frozen=True)
class UploadPartParams:
    __pydantic_config__ = STRICT
    upload: UploadName  # the client's name for it, unique on its connection
    text: str  # the next piece of the text


@dataclass
class _Upload:
    pieces: list[str] = field(default_factory=list)
    chars: int = 0


class Uploads:
    """Every connection's unfinished uploads, and the helper-wide budget."""

    def __init__(self, all_chars: int = ALL_UPLOADS_CHARS) -> None:
        self.all_chars = all_chars
        self.held = 0  # characters held over all connections

    @staticmethod
    def _of(session: rpc.Session) -> dict[str, _Upload]:
        return session.data.setdefault("uploads", {})

    def add(self, params: UploadPartParams, session: rpc.Session) -> int:
        """Append a piece; the upload's size so far."""
        uploads = self._of(session)
        upload = uploads.get(params.upload)
        if upload is None:
            if len(uploads) >= UPLOADS_PER_SESSION:
                raise RpcError(
                    ErrorCode.INVALID_PARAMS,
                    f"this connection already holds {UPLOADS_PER_SESSION} unfinished "
                    "uploads; use one (lab.plan or lab.apply with upload) first",
                )
            upload = uploads[params.upload] = _Upload()
        size = len(params.text)
        if upload.chars + size > MAX_TEXT_CHARS:
            self._forget(uploads, params.upload)
            raise RpcError(
                ErrorCode.INVALID_PARAMS,
                f"upload {params.upload!r} is larger than {MAX_TEXT_CHARS >> 20} MiB, the "
                "largest topology text the helper reads; it was dropped",
            )
        if self.held + size > self.all_chars:
            raise RpcError(
                ErrorCode.INVALID_PARAMS,
                "the helper holds too many uploads of other clients just now; try again",
            )
        upload.pieces.append(params.text)
        upload.chars += size
        self.held += size
        return upload.chars

    def take(self, name: str, session: rpc.Session) -> str:
        """The whole text of an upload, which is then gone."""
        uploads = self._of(session)
        upload = uploads.get(name)
        if upload is None:
            raise RpcError(
                ErrorCode.INVALID_PARAMS,
                f"upload: no upload {name!r} on this connection; send it with upload.part "
                "first (an upload is used once)",
            )
        self._forget(uploads, name)
        return "".join(upload.pieces)

    def drop(self, session: rpc.Session) -> None:
        """A connection ended: what it uploaded and never used is given back."""
        uploads = session.data.pop("uploads", {})
        for name in list(uploads):
            self._forget(uploads, name)

    def _forget(self, uploads: dict[str, _Upload], name: str) -> None:
        upload = uploads.pop(name)
        self.held -= upload.chars

    def topology(self, name: str, fmt: str, session: rpc.Session) -> str | dict[str, Any]:
        """An upload as `read_topology` takes it: YAML text as it came, or the editor's
        JSON document (model.schema.to_document) decoded."""
        text = self.take(name, session)
        if fmt == "yaml":
            return text
        data = text.encode()
        over = check_json(data)
        try:
            if over is not None:
                raise ValueError(over.message)
            document = json.loads(data)
        except ValueError as exc:
            raise RpcError(
                ErrorCode.INVALID_PARAMS, f"upload {name!r} is not a JSON document: {exc}"
            ) from None
        if not isinstance(document, dict):
            raise RpcError(ErrorCode.INVALID_PARAMS, f"upload {name!r} is not a JSON object")
        return document
