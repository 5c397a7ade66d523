"""The helper's protocol layers, driven without sockets (a fake consumer reads the outbox)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nstopo.backend.jsonrpc import (
    MAX_MESSAGE_BYTES,
    Endpoint,
    LineFramer,
    MethodRegistry,
    Outbox,
    Session,
    add_hello,
)
from nstopo.model.types import STRICT
from nstopo.protocol.errors import ErrorCode


@dataclass(frozen=True)
class EchoParams:
    __pydantic_config__ = STRICT
    text: str
    times: int = 1


def make_endpoint(limit: int = 1024) -> tuple[Endpoint, Outbox]:
    registry = MethodRegistry()
    add_hello(registry, "test-helper")

    async def echo(params: EchoParams, session: Session) -> str:
        for i in range(params.times):
            session.notify("echo.tick", {"i": i})
        return params.text * params.times

    registry.add("echo", echo, EchoParams)
    outbox = Outbox(limit=limit)
    return Endpoint(registry, Session(uid=0, gid=0, pid=1), outbox), outbox


def exchange(endpoint: Endpoint, outbox: Outbox, *messages: Any) -> list[dict[str, Any]]:
    async def go() -> None:
        for message in messages:
            raw = message if isinstance(message, bytes) else json.dumps(message).encode()
            await endpoint.receive(raw)

    asyncio.run(go())
    out = [json.loads(line) for line in outbox.messages]
    outbox.messages.clear()
    return out


HELLO = {"jsonrpc": "2.0", "id": 0, "method": "hello", "params": {"protocol": [1]}}


def call(msg_id: Any, method: str, params: Any = None) -> dict[str, Any]:
    message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def test_framer_joins_chunks_and_splits_lines() -> None:
    framer = LineFramer(max_bytes=100)
    assert framer.feed(b'{"a":') == []
    assert framer.feed(b'1}\n{"b":2}\n\n{"c"') == [b'{"a":1}', b'{"b":2}']
    assert framer.feed(b":3}\n") == [b'{"c":3}']


def test_framer_refuses_an_oversized_line_once_and_recovers() -> None:
    framer = LineFramer(max_bytes=10)
    out = framer.feed(b"x" * 25)
    assert len(out) == 1 and not isinstance(out[0], bytes)
    assert framer.feed(b"y" * 30) == []  # still the same oversized message
    assert framer.feed(b'yy\n{"ok":1}\n') == [b'{"ok":1}']


def test_params_types_must_forbid_unknown_keys() -> None:
    @dataclass(frozen=True)
    class Loose:
        text: str

    with pytest.raises(ValueError, match="must forbid unknown keys"):
        MethodRegistry().add("loose", lambda p, s: None, Loose)  # type: ignore[arg-type]


def test_hello_negotiates_and_lists_methods() -> None:
    endpoint, outbox = make_endpoint()
    [reply] = exchange(endpoint, outbox, HELLO)
    assert reply["result"]["protocol"] == 1
    assert reply["result"]["methods"] == ["echo", "hello"]


def test_hello_with_no_common_version_is_refused() -> None:
    endpoint, outbox = make_endpoint()
    [reply] = exchange(endpoint, outbox, call(1, "hello", {"protocol": [7, 8]}))
    assert reply["error"]["code"] == ErrorCode.VERSION_MISMATCH
    assert reply["error"]["data"] == {"supported": [1]}


def test_methods_need_hello_first() -> None:
    endpoint, outbox = make_endpoint()
    [reply] = exchange(endpoint, outbox, call(1, "echo", {"text": "x"}))
    assert reply["id"] == 1
    assert reply["error"] == {
        "code": ErrorCode.HELLO_FIRST,
        "message": "call hello first to agree on the protocol version",
    }


def test_a_call_streams_notifications_before_its_result() -> None:
    endpoint, outbox = make_endpoint()
    replies = exchange(endpoint, outbox, HELLO, call("a", "echo", {"text": "hi", "times": 2}))
    assert [r.get("method") for r in replies[1:3]] == ["echo.tick", "echo.tick"]
    assert replies[3] == {"jsonrpc": "2.0", "id": "a", "result": "hihi"}


def test_errors_for_every_kind_of_bad_message() -> None:
    endpoint, outbox = make_endpoint()
    replies = exchange(
        endpoint, outbox, HELLO,
        b"{not json", b"[1, 2]", {"jsonrpc": "1.0", "id": 3, "method": "echo"},
        call(4, "nope"), call(5, "echo", {"text": 5}), call(6, "echo", {"text": "a", "x": 1}),
        {"jsonrpc": "2.0", "id": [1], "method": "echo"},
        {"jsonrpc": "2.0", "method": "nope"},  # a notification: never answered
    )  # fmt: skip
    codes = [(r["id"], r["error"]["code"]) for r in replies[1:]]
    e = ErrorCode
    assert codes == [(None, e.PARSE_ERROR), (None, e.INVALID_REQUEST), (3, e.INVALID_REQUEST),
                     (4, e.METHOD_NOT_FOUND), (5, e.INVALID_PARAMS), (6, e.INVALID_PARAMS),
                     (None, e.INVALID_REQUEST)]  # fmt: skip
    assert "text" in replies[5]["error"]["message"]


def test_oversized_message_gets_an_error_and_the_connection_goes_on() -> None:
    endpoint, outbox = make_endpoint()
    framer = LineFramer()
    frames = framer.feed(b'{"x":"' + b"a" * (MAX_MESSAGE_BYTES + 10) + b'"}\n')
    frames += framer.feed(json.dumps(HELLO).encode() + b"\n")

    async def go() -> None:
        for frame in frames:
            await endpoint.receive(frame)

    asyncio.run(go())
    replies = [json.loads(m) for m in outbox.messages]
    assert replies[0]["error"]["code"] == ErrorCode.MESSAGE_TOO_LARGE
    assert replies[1]["result"]["protocol"] == 1


def test_a_client_that_does_not_read_loses_notifications_not_memory() -> None:
    endpoint, outbox = make_endpoint(limit=10)
    exchange_no_drain = [HELLO, call(1, "echo", {"text": "x", "times": 50})]

    async def go() -> None:
        for message in exchange_no_drain:
            await endpoint.receive(json.dumps(message).encode())

    asyncio.run(go())
    assert len(outbox.messages) == 11  # 10 queued (hello's reply, 9 ticks) + the result
    assert outbox.dropped == 41
    assert json.loads(outbox.messages[-1])["result"] == "x" * 50  # responses always fit


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
messages = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({
        "jsonrpc": st.sampled_from(["2.0", "2.0", "1.0", 2]),
        "id": st.one_of(st.integers(), st.text(max_size=4), st.none(), st.lists(st.integers())),
        "method": st.sampled_from(["hello", "echo", "nope", 7]),
        "params": st.one_of(json_values, st.fixed_dictionaries({"text": json_values})),
    }).map(lambda d: json.dumps(d).encode()),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(messages, min_size=1, max_size=15))
def test_fuzz_every_message_gets_a_well_formed_answer(batch: list[bytes]) -> None:
    endpoint, outbox = make_endpoint()
    exchange(endpoint, outbox, HELLO)  # many fuzzed calls then reach the handler

    async def go() -> None:
        for raw in batch:
            await endpoint.receive(raw.replace(b"\n", b" "))

    asyncio.run(go())
    for line in outbox.messages:
        reply = json.loads(line)
        assert reply["jsonrpc"] == "2.0"
        if "method" in reply:
            assert reply["method"] == "echo.tick"
        else:
            assert ("result" in reply) != ("error" in reply)
            if "error" in reply:
                assert isinstance(reply["error"]["code"], int) and reply["error"]["message"]
