"""Error codes and the one error type every side raises and decodes."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ErrorCode(IntEnum):
    """JSON-RPC 2.0's codes, then nstopo's own (-32000 .. -32099)."""

    PARSE_ERROR = -32700  # the line is not valid JSON
    INVALID_REQUEST = -32600  # not a JSON-RPC 2.0 request object
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602  # the message names the field and the problem
    INTERNAL_ERROR = -32603  # a bug in the helper; it keeps serving
    MESSAGE_TOO_LARGE = -32000
    NOT_OWNED = -32001  # the request would touch an object nstopo does not own
    TOPOLOGY_INVALID = -32002  # data: the problems, one file:line:col line each
    STEP_FAILED = -32003  # data: {"step", "index"}; the apply was rolled back
    NO_SUCH_LAB = -32004
    VERSION_MISMATCH = -32005  # data: {"supported": [...]}
    HELLO_FIRST = -32006
    NOT_AUTHORIZED = -32007  # the peer is neither root nor in the helper's group
    PING_FAILED = -32008  # ping could not send at all
    NOT_CONNECTED = -32099  # client side only: the call never reached a helper


class RpcError(Exception):
    """A JSON-RPC error: raised by the helper's handlers, sent as the response's
    `error`, and raised again by the clients from what they receive."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = _known(code)
        self.message, self.data = message, data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": int(self.code), "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    @classmethod
    def from_json(cls, error: Any) -> RpcError:
        """The error object of a response; a malformed one is itself reported as an
        error (a client must not crash on what a broken peer sends)."""
        if (
            not isinstance(error, dict)
            or not isinstance(error.get("code"), int)
            or isinstance(error.get("code"), bool)
            or not isinstance(error.get("message"), str)
        ):
            return cls(ErrorCode.INTERNAL_ERROR, f"malformed error from the helper: {error!r}")
        return cls(error["code"], error["message"], error.get("data"))

    def __repr__(self) -> str:
        return f"RpcError({self.code!r}, {self.message!r}, {self.data!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RpcError):
            return NotImplemented
        return (self.code, self.message, self.data) == (other.code, other.message, other.data)

    __hash__ = Exception.__hash__


def _known(code: int) -> int:
    try:
        return ErrorCode(code)
    except ValueError:
        return code  # a newer helper's code: kept as the number it is
