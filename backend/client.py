"""A small synchronous client for the helper (the command line, tests, benchmarks; the
editor speaks the same protocol through Qt's event loop in gui/connection.py).

Imports only the protocol and the socket: `nstopo status` must answer in milliseconds.
"""

from __future__ import annotations

import _socket  # the C module: `socket` turns its constants into enums at import (5 ms)
import contextlib
import itertools
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nstopo import __version__
from nstopo.protocol.errors import ErrorCode, RpcError
from nstopo.protocol.methods import Method
from nstopo.protocol.wire import (
    MAX_ANSWER_BYTES,
    PROTOCOL_VERSION,
    FrameTooLarge,
    Incoming,
    LineFramer,
    decode,
)
from nstopo.protocol.wire import request as encode_request

from .paths import socket_path

if TYPE_CHECKING:  # the types only: the fast commands do not load them
    from nstopo.protocol.messages import HelloResult

OnNotification = Callable[[str, Any], None]  # (method, params)


class HelperUnavailable(RpcError):
    """No helper answers at the socket (or it will not have us); the message says what
    to do. A NOT_CONNECTED error: the call never reached a helper."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.NOT_CONNECTED, message)


class HelperClient:
    def __init__(
        self, path: str | None = None, timeout: float | None = None, client: str = "nstopo-cli"
    ) -> None:
        self.path = path or socket_path()
        self._sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(self.path)
        except (FileNotFoundError, ConnectionRefusedError):
            self._sock.close()
            raise HelperUnavailable(
                f"no nstopo helper is running at {self.path}; start one with "
                f"'sudo nstopo helper' (or 'sudo systemctl start nstopo-helper.socket')"
            ) from None
        except PermissionError:
            self._sock.close()
            raise HelperUnavailable(
                f"permission denied on {self.path}; ask an administrator to add you to the "
                "nstopo group (then log in again)"
            ) from None
        self._framer = LineFramer(MAX_ANSWER_BYTES)
        self._frames: deque[bytes | FrameTooLarge] = deque()
        self._ids = itertools.count(1)
        hello = {"protocol": [PROTOCOL_VERSION], "client": f"{client} {__version__}"}
        self.server: HelloResult = self.call(Method.HELLO, hello)

    def close(self) -> None:
        # Shut down first: a thread blocked in listen() then sees EOF.
        with contextlib.suppress(OSError):
            self._sock.shutdown(_socket.SHUT_RDWR)
        self._sock.close()

    def __enter__(self) -> HelperClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next(self) -> Incoming | None:
        """The next message from the helper (None: it hung up)."""
        while not self._frames:
            try:
                data = self._sock.recv(65536)
            except OSError:
                if self._sock.fileno() < 0:  # closed by another thread
                    return None
                raise
            if not data:
                return None
            self._frames.extend(self._framer.feed(data))
        frame = self._frames.popleft()
        if isinstance(frame, FrameTooLarge):
            raise RpcError(ErrorCode.MESSAGE_TOO_LARGE, "the helper sent an oversized message")
        return decode(frame)

    def listen(self, on_notification: OnNotification) -> None:
        """Hand every notification to `on_notification` until the helper hangs up."""
        while (message := self._next()) is not None:
            if message.is_notification:
                on_notification(message.method, message.params)

    def send(self, method: str, params: Any = None) -> int:
        """Send a request without waiting for its answer (for a connection whose
        replies another thread reads with listen()); returns its id."""
        msg_id = next(self._ids)
        self._sock.sendall(encode_request(msg_id, method, params))
        return msg_id

    def call(
        self, method: str, params: Any = None, on_notification: OnNotification | None = None
    ) -> Any:
        """The result, or the helper's error raised as RpcError; notifications that
        arrive meanwhile go to `on_notification`."""
        msg_id = self.send(method, params)
        while True:
            message = self._next()
            if message is None:
                raise RpcError(ErrorCode.NOT_CONNECTED, "the helper closed the connection")
            if message.is_notification:
                if on_notification is not None:
                    on_notification(message.method, message.params)
            elif message.id in (msg_id, None):  # id null: an error about no request
                return message.value()
