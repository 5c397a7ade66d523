"""A connection's outbox is budgeted in bytes (issue 19, finding 6): the issue's helper
counted messages, so 1,024 queued `counters` notifications of 200 KB each (a
1,600-interface lab) fit its limit, and 20 such streams that were never read took the
helper from 75 to 270 MB."""

from __future__ import annotations

import json

from nstopo.backend import flow
from nstopo.protocol.wire import encode


def counters(interfaces: int) -> bytes:
    """A counters notification as the helper encodes it, for a lab of `interfaces`."""
    sample = [
        {"namespace": f"s{i}", "name": "eth0", "rx_bytes": 10**9, "tx_bytes": 10**9,
         "rx_packets": 10**6, "tx_packets": 10**6}
        for i in range(interfaces)
    ]  # fmt: skip
    params = {"lab": "star", "time": 1e9, "interfaces": sample}
    return encode({"jsonrpc": "2.0", "method": "counters", "params": params})


def test_counter_streams_nobody_reads_hold_at_most_the_byte_budget() -> None:
    big = counters(1600)
    assert len(big) > 150_000
    outbox = flow.ByteOutbox()
    kept = sum(outbox.put_notification(big) for _ in range(1024))  # the old count limit
    assert outbox.bytes <= flow.OUTBOX_BYTES and kept == flow.OUTBOX_BYTES // len(big)
    assert outbox.dropped == 1024 - kept and not outbox.overflowing


def test_answers_are_never_dropped_but_a_client_past_the_hard_limit_is_cut_off() -> None:
    outbox = flow.ByteOutbox()
    answer = b'{"jsonrpc":"2.0","id":1,"result":"' + b"x" * (1 << 20) + b'"}\n'
    for _ in range(flow.OUTBOX_HARD_BYTES // len(answer)):
        outbox.put_response(answer)
    assert not outbox.overflowing  # whole answers, up to 64 MiB waiting
    assert not outbox.put_notification(counters(10))  # notifications give way
    outbox.put_response(answer)
    assert outbox.overflowing and outbox.bytes > flow.OUTBOX_HARD_BYTES


def test_popping_gives_the_bytes_back_and_drops_add_up_to_a_disconnect() -> None:
    outbox = flow.ByteOutbox()
    small = counters(2)
    assert outbox.put_notification(small) and outbox.bytes == len(small)
    assert json.loads(outbox.pop())["method"] == "counters" and outbox.bytes == 0
    outbox.bytes = flow.OUTBOX_BYTES  # full: every further notification is dropped
    for _ in range(flow.DROP_LIMIT - 1):
        outbox.put_notification(small)
    assert not outbox.overflowing
    outbox.put_notification(small)
    assert outbox.overflowing and outbox.dropped == flow.DROP_LIMIT
