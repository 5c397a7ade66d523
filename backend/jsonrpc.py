"""JSON-RPC 2.0 for the helper, in three layers that do no I/O (design.md §1):

- `LineFramer` (nstopo.protocol.wire, shared with the clients): bytes -> one JSON
  text per line, with a size limit per message;
- `MethodRegistry`: method names -> async handlers with typed, validated params;
- `Endpoint`: one connection's protocol state: parses a message, dispatches it,
  and hands responses and notifications to an `Outbox`. A bounded `Outbox` drops
  notifications (and counts them) instead of growing when a client stops reading.

The server (`backend/server.py`) moves bytes between a socket and these objects.
The protocol is written down in docs/protocol.md.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from nstopo.model import inputbudget
from nstopo.model.types import STRICT
from nstopo.protocol import messages as m
from nstopo.protocol import methods
from nstopo.protocol.errors import ErrorCode, RpcError
from nstopo.protocol.wire import (
    MAX_MESSAGE_BYTES,
    PROTOCOL_VERSION,
    FrameTooLarge,
    LineFramer,
    encode,
    notification,
    parse,
)
from pydantic import TypeAdapter, ValidationError

# The framing is the protocol module's (the clients use the same); re-exported for
# the helper's modules.
__all__ = ["MAX_MESSAGE_BYTES", "PROTOCOL_VERSION", "FrameTooLarge", "LineFramer", "RpcError",
           "encode"]  # fmt: skip

log = logging.getLogger("nstopo.helper")


# -- methods ------------------------------------------------------------------------------

Handler = Callable[[Any, "Session"], Awaitable[Any]]


@dataclass
class Method:
    name: str
    handler: Handler
    params: TypeAdapter | None  # None: the method takes no params
    needs_hello: bool = True
    params_type: type | None = None  # what `params` validates (checked against the protocol)


class MethodRegistry:
    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}

    def add(self, name: str, handler: Handler, params: type | None = None,
            needs_hello: bool = True) -> None:  # fmt: skip
        if name in self._methods:
            raise ValueError(f"method {name} registered twice")
        if params is not None and getattr(params, "__pydantic_config__", {}).get("extra") != (
            "forbid"
        ):
            raise ValueError(f"{params.__name__} must forbid unknown keys (__pydantic_config__)")
        adapter = TypeAdapter(params) if params is not None else None
        self._methods[name] = Method(name, handler, adapter, needs_hello, params)

    def get(self, name: str) -> Method | None:
        return self._methods.get(name)

    def names(self) -> list[str]:
        return sorted(self._methods)


# -- one connection ---------------------------------------------------------------------


@dataclass
class Outbox:
    """Bounded outgoing messages. Responses always fit (one per request in flight);
    notifications beyond `limit` are dropped and counted. `overflowing` tells the
    server to disconnect a client that keeps not reading."""

    limit: int = 1024
    messages: deque[bytes] = field(default_factory=deque)
    dropped: int = 0
    drop_limit: int = 10_000
    on_put: Callable[[], None] | None = None  # the server wakes its writer here

    def put_response(self, data: bytes) -> None:
        self.messages.append(data)
        if self.on_put:
            self.on_put()

    def put_notification(self, data: bytes) -> bool:
        if len(self.messages) >= self.limit:
            self.dropped += 1
            if self.on_put:
                self.on_put()
            return False
        self.messages.append(data)
        if self.on_put:
            self.on_put()
        return True

    @property
    def overflowing(self) -> bool:
        return self.dropped >= self.drop_limit


@dataclass
class Session:
    """What a handler knows about its caller."""

    uid: int
    gid: int
    pid: int
    endpoint: Endpoint | None = None
    protocol: int | None = None  # set by hello
    data: dict[str, Any] = field(default_factory=dict)  # subscriptions, captures, ...

    def notify(self, method: str, params: Any) -> bool:
        assert self.endpoint is not None
        return self.endpoint.notify(method, params)


class Endpoint:
    """Protocol state of one connection: no sockets, no event loop of its own."""

    def __init__(self, registry: MethodRegistry, session: Session, outbox: Outbox) -> None:
        self.registry, self.session, self.outbox = registry, session, outbox
        session.endpoint = self

    async def receive(self, frame: bytes | FrameTooLarge) -> None:
        response = await self._answer(frame)
        if response is not None:
            self.outbox.put_response(encode(response))

    def notify(self, method: str, params: Any) -> bool:
        return self.outbox.put_notification(notification(method, params))

    async def _answer(self, frame: bytes | FrameTooLarge) -> dict[str, Any] | None:
        if isinstance(frame, FrameTooLarge):
            too_large = f"message is larger than {MAX_MESSAGE_BYTES} bytes; it was ignored"
            return _error(None, RpcError(ErrorCode.MESSAGE_TOO_LARGE, too_large))
        if too_deep := inputbudget.check_json(frame):  # before the recursive decoder
            return _error(None, RpcError(ErrorCode.INVALID_REQUEST, too_deep.message))
        try:
            message = parse(frame)
        except RpcError as exc:
            return _error(None, exc)
        if not isinstance(message, dict):
            not_object = RpcError(ErrorCode.INVALID_REQUEST, "a message must be a JSON object")
            return _error(None, not_object)
        msg_id = message.get("id")
        is_notification = "id" not in message
        if not _valid_id(msg_id) and not is_notification:
            return _error(
                None, RpcError(ErrorCode.INVALID_REQUEST, "id must be a string, number or null")
            )
        problem = _envelope_problem(message)
        if problem:
            return _error(msg_id, RpcError(ErrorCode.INVALID_REQUEST, problem))
        try:
            result = await self._dispatch(message["method"], message.get("params"))
        except RpcError as exc:
            return None if is_notification else _error(msg_id, exc)
        except Exception as exc:  # a bug in a handler must not stop the helper serving
            log.exception("method %s failed", message["method"])
            error = RpcError(ErrorCode.INTERNAL_ERROR, f"internal error in the helper: {exc}")
            return None if is_notification else _error(msg_id, error)
        return None if is_notification else {"jsonrpc": "2.0", "id": msg_id, "result": result}

    async def _dispatch(self, name: str, raw_params: Any) -> Any:
        method = self.registry.get(name)
        if method is None:
            raise RpcError(ErrorCode.METHOD_NOT_FOUND, f"there is no method {name!r}")
        if method.needs_hello and self.session.protocol is None:
            raise RpcError(
                ErrorCode.HELLO_FIRST, "call hello first to agree on the protocol version"
            )
        params = None
        if method.params is not None:
            try:
                params = method.params.validate_python(raw_params if raw_params is not None
                                                       else {})  # fmt: skip
            except ValidationError as exc:
                raise RpcError(ErrorCode.INVALID_PARAMS, _params_message(exc)) from None
        elif raw_params not in (None, {}, []):
            raise RpcError(ErrorCode.INVALID_PARAMS, f"{name} takes no params")
        return await method.handler(params, self.session)


def _valid_id(value: Any) -> bool:
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))


def _envelope_problem(message: dict[str, Any]) -> str | None:
    if message.get("jsonrpc") != "2.0":
        return 'jsonrpc must be "2.0"'
    if not isinstance(message.get("method"), str):
        return "method must be a string"
    if "params" in message and not isinstance(message["params"], dict | list):
        return "params must be an object or an array"
    return None


def _params_message(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(x) for x in first["loc"]) or "params"
    return f"invalid params: {where}: {first['msg']}"


def _error(msg_id: Any, exc: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": exc.to_json()}


# -- the hello method ---------------------------------------------------------------------


@dataclass(frozen=True)
class HelloParams:
    __pydantic_config__ = STRICT
    protocol: list[int]  # versions the client speaks
    client: str = ""


def add_hello(registry: MethodRegistry, server_name: str) -> None:
    async def hello(params: HelloParams, session: Session) -> m.HelloResult:
        if PROTOCOL_VERSION not in params.protocol:
            raise RpcError(
                ErrorCode.VERSION_MISMATCH,
                f"this helper speaks protocol {PROTOCOL_VERSION}; the client offered "
                f"{params.protocol}; upgrade the older side",
                {"supported": [PROTOCOL_VERSION]},
            )
        session.protocol = PROTOCOL_VERSION
        return {"protocol": PROTOCOL_VERSION, "server": server_name,
                "methods": registry.names()}  # fmt: skip

    registry.add(methods.Method.HELLO, hello, HelloParams, needs_hello=False)
