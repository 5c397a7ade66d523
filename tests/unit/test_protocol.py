"""The protocol module: error codes, the envelope, the message types, and the two
definitions it must agree with (docs/protocol.md and the helper's param classes)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import get_args, get_origin, get_type_hints

import pytest
from nstopo.backend.server import Helper
from nstopo.protocol import messages as m
from nstopo.protocol.check import conforms
from nstopo.protocol.errors import ErrorCode, RpcError
from nstopo.protocol.methods import Method, Notification
from nstopo.protocol.wire import (
    LineFramer,
    decode,
    encode,
    error_response,
    notification,
    request,
    response,
)

DOC = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text()


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_round_trips(code: ErrorCode) -> None:
    sent = RpcError(code, f"what went wrong ({code.name})", {"index": 3, "step": {"op": "x"}})
    (line,) = LineFramer().feed(error_response(7, sent))
    received = decode(line)
    assert not received.is_notification and received.id == 7
    assert received.error == sent
    assert received.error.code is code  # the enum member, not only an equal int
    with pytest.raises(RpcError) as raised:
        received.value()
    assert raised.value.code == code and raised.value.message == sent.message


def test_an_unknown_code_keeps_its_number_and_data_may_be_absent() -> None:
    error = RpcError.from_json({"code": -32050, "message": "newer helper"})
    assert (error.code, error.data) == (-32050, None)
    assert error.to_json() == {"code": -32050, "message": "newer helper"}


@pytest.mark.parametrize(
    "bad", [None, "x", {"message": "no code"}, {"code": True, "message": "m"}, {"code": 1}]
)
def test_a_malformed_error_object_is_an_internal_error_not_a_crash(bad: object) -> None:
    error = RpcError.from_json(bad)
    assert error.code == ErrorCode.INTERNAL_ERROR and "malformed" in error.message


def test_requests_results_and_notifications_decode() -> None:
    assert encode({"a": "é"}) == '{"a":"é"}\n'.encode()
    assert request(1, Method.LAB_STATUS, {"lab": None}) == (
        b'{"jsonrpc":"2.0","id":1,"method":"lab.status","params":{"lab":null}}\n'
    )
    assert b"params" not in request(2, Method.HELPER_INFO)
    result = decode(response(3, [{"lab": "x"}]))
    assert (result.id, result.value(), result.is_notification) == (3, [{"lab": "x"}], False)
    event = decode(notification(Notification.LAB_CHANGED, {"lab": "x", "change": "applied"}))
    assert event.is_notification and event.method == "lab.changed"
    assert event.params == {"lab": "x", "change": "applied"}


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"not json", ErrorCode.PARSE_ERROR),
        (b"[1, 2]", ErrorCode.INVALID_REQUEST),
        (b'{"jsonrpc": "1.0", "id": 1, "result": 2}', ErrorCode.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 1}', ErrorCode.INVALID_REQUEST),
    ],
)
def test_what_is_not_a_response_is_an_rpc_error(line: bytes, code: ErrorCode) -> None:
    with pytest.raises(RpcError) as raised:
        decode(line)
    assert raised.value.code == code


# -- the checker -------------------------------------------------------------------------------

LINK = {"lab": "l", "namespace": None, "change": "new", "resync": True, "time": 1.5, "index": 2,
        "name": "eth0", "kind": "veth", "oper": "UP", "up": True, "mtu": 1500,
        "mac": "02:00:00:00:00:01", "master": None, "tag": "nstopo:l"}  # fmt: skip


def test_conforms_accepts_a_fitting_value_and_names_every_difference() -> None:
    assert conforms(m.LinkEvent, LINK) == []
    wrong = {**LINK, "change": "moved", "mtu": True, "extra": 1}
    del wrong["name"]
    assert sorted(conforms(m.LinkEvent, wrong)) == [
        "$.change: 'moved' not in ('new', 'del')",
        "$.mtu: True is not a int",
        "$: LinkEvent has no key 'extra'",
        "$: LinkEvent needs 'name'",
    ]
    assert conforms(m.PingSummary, {"address": "10.0.0.1", "reason": "r", "target": "b",
                                    "transmitted": 1, "received": 0, "errors": 0, "loss": 100,
                                    "time_ms": 3.0}) == []  # fmt: skip
    assert conforms(list[m.LabStatus], [{"lab": 1}])[0] == "$[0]: LabStatus needs 'host_links'"


# -- one definition: the docs and the helper's params agree with the module ---------------------


def _sections() -> dict[str, str]:
    """docs/protocol.md's method sections by method name ("### a / b" names two)."""
    methods = DOC.split("## Methods", 1)[1].split("\n## ", 1)[0]
    found = {}
    for block in methods.split("\n### ")[1:]:
        heading, _, body = block.partition("\n")
        for name in heading.split(" / "):
            found[name.strip()] = body
    return found


def _keys(text: str) -> set[str]:
    """The keys of the first JSON-like object written in `text`, at its top level only:
    quoted words right after its `{` or a `,` (values and nested objects are skipped)."""
    keys, depth, expecting_key = set(), 0, False
    for token in re.finditer(r'"([^"]*)"|[{}\[\],]', text[text.index("{") :]):
        mark = token.group(0)
        if mark in "{[":
            depth += 1
            expecting_key = mark == "{" and depth == 1
        elif mark in "}]":
            depth -= 1
            if depth == 0:
                break
        elif mark == ",":
            expecting_key = depth == 1
        elif expecting_key:
            keys.add(token.group(1))
            expecting_key = False
    return keys


def test_every_method_is_documented_with_its_params() -> None:
    sections = _sections()
    assert set(sections) == {str(x) for x in Method}
    for method, (params, _) in m.METHODS.items():
        body = sections[method]
        if params is None:
            flat = " ".join(body.split())
            assert "No params" in flat or f"`{method}` takes no params" in flat, method
            continue
        # A section for two methods writes the second's params as `name {...}`.
        written = re.search(rf"`{re.escape(method)} (\{{.*?\}})`", body, re.DOTALL)
        written = written or re.search(r"params `(\{.*?\})`", body, re.DOTALL)
        assert written is not None, f"{method}: no params in the docs"
        assert _keys(written.group(1)) == set(get_type_hints(params)), method


def test_every_result_is_documented_with_its_keys() -> None:
    sections = _sections()
    for method, (_, result) in m.METHODS.items():
        if get_origin(result) is list:  # lab.status: `[{...}]`
            (result,) = get_args(result)
        body = " ".join(sections[method].split())
        # A section for two methods gives the second's result after its own name.
        own = re.search(rf"`{re.escape(method)}[^`]*`[^`→]*→ (?:result )?`([^`]*)`", body)
        written = own or re.search(r"→ (?:result )?`([^`]*)`", body)
        assert written is not None, f"{method}: no result in the docs"
        keys = _keys(written.group(1)) if "{" in written.group(1) else set()
        assert keys == set(get_type_hints(result)), method


def test_every_notification_is_documented_with_its_keys() -> None:
    table = DOC.split("## Notifications", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in table.splitlines():
        cells = line.split("|")
        if len(cells) > 3 and cells[1].strip().startswith("`"):
            rows[cells[1].strip().strip("`")] = cells[2]
    assert set(rows) == {str(x) for x in Notification}
    for name, kind in m.NOTIFICATIONS.items():
        assert _keys(rows[name]) == set(get_type_hints(kind)), name


def test_every_error_code_is_documented() -> None:
    table = DOC.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    codes = {int(c) for c in re.findall(r"^\| (-\d+) \|", table, re.MULTILINE)}
    assert codes == {int(c) for c in ErrorCode}


def test_the_helpers_params_are_the_protocols() -> None:
    """The helper validates params with pydantic dataclasses: same keys as the
    protocol's TypedDicts, and exactly the optional ones have defaults."""
    helper = Helper(Path("/nonexistent.sock"), Path("/nonexistent"), "nogroup")
    helper._register_methods()
    assert set(helper.registry.names()) == {str(x) for x in Method}
    for name, (params, _) in m.METHODS.items():
        registered = helper.registry.get(name)
        assert registered is not None
        if params is None:
            assert registered.params_type is None, name
            continue
        fields = {f.name: f for f in dataclasses.fields(registered.params_type)}
        assert set(fields) == set(get_type_hints(params)), name
        optional = {n for n, f in fields.items() if f.default is not dataclasses.MISSING}
        assert optional == set(params.__optional_keys__), name
