"""Per-connection budgets in bytes: what one client can make the helper hold.

Counting messages did not bound memory: 150 requests of 1 MiB each, or 1,024 queued
`counters` notifications of 200 KB each (a 1,600-interface lab), fit a count limit
and cost hundreds of MB. Here both directions are counted in bytes:

- inbox: the bytes of the requests being served; past `INBOX_BYTES` the helper stops
  reading from the client until some are answered (one request always runs);
- outbox: the bytes waiting to be written; a notification that would pass
  `OUTBOX_BYTES` is dropped and counted; responses and a subscriber's initial state
  are never dropped (they arrive whole), but past `OUTBOX_HARD_BYTES`, or after
  `DROP_LIMIT` dropped notifications, the client is disconnected: it is not reading.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import jsonrpc as rpc

INBOX_BYTES = 4 << 20
OUTBOX_BYTES = 4 << 20
OUTBOX_HARD_BYTES = 64 << 20
DROP_LIMIT = 10_000
WRITE_CHUNK = 256 << 10  # written to the socket before waiting for it to drain
POLLRDHUP = 0x2000


@dataclass
class ByteOutbox(rpc.Outbox):
    byte_limit: int = OUTBOX_BYTES
    hard_limit: int = OUTBOX_HARD_BYTES
    bytes: int = 0  # queued, not yet handed to the socket
    too_much: bool = False  # past the hard limit: disconnect

    def __post_init__(self) -> None:
        self.drop_limit = DROP_LIMIT

    def put_response(self, data: bytes) -> None:
        self.messages.append(data)
        self.bytes += len(data)
        if self.bytes > self.hard_limit:
            self.too_much = True
        if self.on_put:
            self.on_put()

    def put_notification(self, data: bytes) -> bool:
        if self.bytes + len(data) > self.byte_limit or len(self.messages) >= self.limit:
            self.dropped += 1
            if self.on_put:
                self.on_put()
            return False
        self.messages.append(data)
        self.bytes += len(data)
        if self.on_put:
            self.on_put()
        return True

    def pop(self) -> bytes:
        data = self.messages.popleft()
        self.bytes -= len(data)
        return data

    @property
    def overflowing(self) -> bool:
        return self.too_much or self.dropped >= self.drop_limit


def notify_whole(session: rpc.Session) -> Callable[[str, Any], bool]:
    """A notifier whose messages are never dropped (a subscriber's initial state)."""

    def notify(method: str, params: Any) -> bool:
        assert session.endpoint is not None
        outbox = session.endpoint.outbox
        outbox.put_response(rpc.encode({"jsonrpc": "2.0", "method": method, "params": params}))
        return True

    return notify


def peer_gone(sock: socket.socket) -> bool:
    """The client hung up (seen even while the helper is not reading from it)."""
    if sock.fileno() < 0:
        return True  # the transport closed it already
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | POLLRDHUP)
    return any(event & (POLLRDHUP | select.POLLHUP | select.POLLERR) for _, event in poller.poll(0))


def give_back_memory() -> None:
    """Return freed heap to the system after a connection (glibc keeps it otherwise:
    a closed client's buffers would stay in the helper's RSS)."""
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
