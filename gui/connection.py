"""The editor's connection to the helper: JSON-RPC over Qt's own local socket.

Every call is asynchronous (a callback gets the result or the error), so the UI
thread never waits on the helper. When the helper goes away the connection says so,
fails what was pending, and tries again every second; once it is back, `ready` fires
and whoever depends on the helper re-syncs.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

from nstopo import __version__
from nstopo.backend.paths import socket_path
from nstopo.protocol.errors import ErrorCode, RpcError
from nstopo.protocol.methods import Method
from nstopo.protocol.wire import (
    MAX_ANSWER_BYTES,
    PROTOCOL_VERSION,
    FrameTooLarge,
    LineFramer,
    decode,
    request,
)
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtNetwork import QLocalSocket
from shiboken6 import isValid

RETRY_MS = 1000
LINES_PER_SLICE = 200
CallError = RpcError  # the protocol's one error type, under the name the panels know

OnResult = Callable[[Any], None]
OnError = Callable[[RpcError], None]


class HelperConnection(QObject):
    ready = Signal()  # connected and greeted: calls can be made
    lost = Signal()  # was ready, is not any more
    refused = Signal(str)  # the socket exists but will not have us (why)
    unreachable = Signal()  # no helper listens at the socket
    notification = Signal(str, object)  # method, params

    def __init__(self, path: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path or socket_path()
        self.is_ready = False
        self.server: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[OnResult | None, OnError | None]] = {}
        self._framer = LineFramer(MAX_ANSWER_BYTES)
        self._frames: deque[bytes | FrameTooLarge] = deque()
        self._socket = QLocalSocket(self)
        self._socket.connected.connect(self._greet)
        self._socket.readyRead.connect(self._read)
        self._socket.disconnected.connect(self._closed)
        self._socket.errorOccurred.connect(self._failed)
        self._retry = QTimer(self)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self.connect_now)
        self._retry.start()
        self.connect_now()

    # -- connecting ---------------------------------------------------------------------------
    def connect_now(self) -> None:
        if self._socket.state() == QLocalSocket.LocalSocketState.UnconnectedState:
            self._socket.connectToServer(self.path)

    def _greet(self) -> None:
        hello = {"protocol": [PROTOCOL_VERSION], "client": f"nstopo-editor {__version__}"}
        self.call(Method.HELLO, hello, self._greeted, self._hello_failed, before_ready=True)

    def _greeted(self, result: dict[str, Any]) -> None:
        self.server = result
        self.is_ready = True
        self.ready.emit()

    def _hello_failed(self, error: CallError) -> None:
        self.refused.emit(error.message)
        self._socket.abort()

    def _failed(self, error: QLocalSocket.LocalSocketError) -> None:
        if error == QLocalSocket.LocalSocketError.SocketAccessError:
            self.refused.emit("permission denied")
        elif not self.is_ready:
            self.unreachable.emit()
        if self._socket.state() != QLocalSocket.LocalSocketState.ConnectedState:
            self._closed()

    def _closed(self) -> None:
        # A new connection starts afresh.
        self._framer, self._frames = LineFramer(MAX_ANSWER_BYTES), deque()
        pending, self._pending = self._pending, {}
        for _, on_error in pending.values():
            if on_error is not None:
                on_error(RpcError(ErrorCode.NOT_CONNECTED, "the helper closed the connection"))
        if self.is_ready:
            self.is_ready = False
            self.lost.emit()
        self._socket.abort()

    def close(self) -> None:
        self._retry.stop()
        self._socket.abort()

    # -- calls ---------------------------------------------------------------------------------
    def call(
        self,
        method: str,
        params: Any = None,
        on_result: OnResult | None = None,
        on_error: OnError | None = None,
        before_ready: bool = False,
        owner: QObject | None = None,
    ) -> int | None:
        """Send a request; exactly one of the callbacks runs later (never inside this
        call), unless `owner` (the widget the callbacks belong to) is gone by then.
        Returns the request's id, or None if there is no helper to send to."""
        if owner is not None:
            on_result = _while_alive(owner, on_result)
            on_error = _while_alive(owner, on_error)
        if not (self.is_ready or before_ready):
            if on_error is not None:
                error = RpcError(ErrorCode.NOT_CONNECTED, f"no helper is connected at {self.path}")
                QTimer.singleShot(0, lambda: on_error(error))
            return None
        msg_id = next(self._ids)
        self._pending[msg_id] = (on_result, on_error)
        self._socket.write(request(msg_id, method, params))
        return msg_id

    def _read(self) -> None:
        """Handle what arrived, a slice at a time: a burst of thousands of events must not
        keep the UI from painting; the rest is handled on the next turn of the event loop."""
        self._frames.extend(self._framer.feed(bytes(self._socket.readAll().data())))
        for _ in range(LINES_PER_SLICE):
            if not self._frames:
                return
            frame = self._frames.popleft()
            if isinstance(frame, FrameTooLarge):
                continue
            try:
                message = decode(frame)
            except RpcError:
                continue  # not JSON-RPC: nothing to answer, nothing to show
            if message.is_notification:
                self.notification.emit(message.method, message.params)
            elif message.id is None and message.error is not None:
                self.refused.emit(message.error.message)  # e.g. not in the group
            else:
                self._answered(message.id, message.result, message.error)
        if self._frames:
            QTimer.singleShot(0, self._read)

    def _answered(self, msg_id: Any, result: Any, error: RpcError | None) -> None:
        callbacks = self._pending.pop(msg_id, None)
        if callbacks is None:
            return
        on_result, on_error = callbacks
        if error is not None:
            if on_error is not None:
                on_error(error)
        elif on_result is not None:
            on_result(result)


def _while_alive(
    owner: QObject, callback: Callable[[Any], None] | None
) -> Callable[[Any], None] | None:
    """The callback, skipped once its owner's C++ object has been deleted (a panel
    replaced when another document was opened, an answer still on its way)."""
    if callback is None:
        return None

    def guarded(value: Any) -> None:
        if isValid(owner):
            callback(value)

    return guarded
