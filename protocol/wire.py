"""Framing and the JSON-RPC envelope, the same on both ends: one JSON object per line
(UTF-8, `\\n`-terminated): a request at most MAX_MESSAGE_BYTES, an answer at most
MAX_ANSWER_BYTES. No I/O here."""

from __future__ import annotations

import json
from typing import Any

from .errors import ErrorCode, RpcError

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 1 << 20  # one request line (a bigger topology comes in upload.part pieces)
# One answer line: the helper is trusted by its clients, and a big lab's topology or
# status (a 5,000-namespace lab's is 1.5 MB) must arrive whole.
MAX_ANSWER_BYTES = 64 << 20


class FrameTooLarge(Exception):
    pass


class LineFramer:
    """Splits a byte stream into lines; a line longer than the limit is refused and
    skipped up to its end, so one oversized message does not end the connection."""

    def __init__(self, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes | FrameTooLarge]:
        out: list[bytes | FrameTooLarge] = []
        self._buffer += data
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > self.max_bytes and not self._skipping:
                    out.append(FrameTooLarge())
                    self._skipping = True
                if self._skipping:
                    self._buffer.clear()
                return out
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if self._skipping:
                self._skipping = False  # the tail of an oversized message
            elif len(line) > self.max_bytes:
                out.append(FrameTooLarge())
            elif line.strip():
                out.append(line)


def encode(message: dict[str, Any]) -> bytes:
    """One message as its line on the wire."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode() + b"\n"
    except UnicodeEncodeError:  # a lone surrogate echoed back: as a \uXXXX escape
        return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def request(msg_id: int | str | None, method: str, params: Any = None) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        message["params"] = params
    return encode(message)


def notification(method: str, params: Any) -> bytes:
    return encode({"jsonrpc": "2.0", "method": method, "params": params})


def response(msg_id: Any, result: Any) -> bytes:
    return encode({"jsonrpc": "2.0", "id": msg_id, "result": result})


def error_response(msg_id: Any, error: RpcError) -> bytes:
    return encode({"jsonrpc": "2.0", "id": msg_id, "error": error.to_json()})


def parse(frame: bytes | str) -> Any:
    """JSON text -> value; anything that is not JSON is a PARSE_ERROR."""
    try:
        return json.loads(frame, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise RpcError(ErrorCode.PARSE_ERROR, "message is not valid JSON") from None


def _not_json(word: str) -> Any:
    raise ValueError(f"{word} is not JSON")  # NaN, Infinity: Python's json accepts them


class Incoming:
    """What a client received: a notification (`method`, `params`) or the response to
    a request (`id`, then `result`, or `error` when it failed)."""

    __slots__ = ("error", "id", "method", "params", "result")

    def __init__(
        self,
        method: str | None = None,
        params: Any = None,
        msg_id: Any = None,
        result: Any = None,
        error: RpcError | None = None,
    ) -> None:
        self.method, self.params = method, params
        self.id, self.result, self.error = msg_id, result, error

    @property
    def is_notification(self) -> bool:
        return self.method is not None

    def value(self) -> Any:
        """The response's result, or its error raised."""
        if self.error is not None:
            raise self.error
        return self.result


def decode(frame: bytes | str) -> Incoming:
    """A line from the helper; RpcError if it is not a JSON-RPC response or notification."""
    message = parse(frame)
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        raise RpcError(ErrorCode.INVALID_REQUEST, "the helper sent a message that is not JSON-RPC")
    method = message.get("method")
    if isinstance(method, str):
        return Incoming(method=method, params=message.get("params"))
    if "error" in message:
        return Incoming(msg_id=message.get("id"), error=RpcError.from_json(message["error"]))
    if "result" in message:
        return Incoming(msg_id=message.get("id"), result=message["result"])
    raise RpcError(ErrorCode.INVALID_REQUEST, "the helper sent a response with no result")
