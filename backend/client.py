"""A small synchronous client for the helper (used by the CLI; the GUI wraps the same
protocol in Qt's event loop)."""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
from collections.abc import Callable
from typing import Any

from nstopo import __version__

from . import jsonrpc as rpc
from .paths import socket_path

Notification = Callable[[str, Any], None]


class HelperUnavailable(Exception):
    """No helper answers at the socket; the message says how to start one."""


class HelperError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


class HelperClient:
    def __init__(self, path: str | None = None, timeout: float | None = None) -> None:
        self.path = path or socket_path()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
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
        self._file = self._sock.makefile("rb")
        self._ids = itertools.count(1)
        self.server = self.call("hello", {"protocol": [rpc.PROTOCOL_VERSION],
                                          "client": f"nstopo-cli {__version__}"})  # fmt: skip

    def close(self) -> None:
        # Shut down first: a thread blocked in listen() then sees EOF instead of holding
        # the reader's lock forever.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._file.close()
        self._sock.close()

    def __enter__(self) -> HelperClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def listen(self, on_notification: Notification) -> None:
        """Hand every notification to `on_notification` until the helper hangs up."""
        for line in self._file:
            reply = json.loads(line)
            if "method" in reply:
                on_notification(reply["method"], reply.get("params"))

    def send(self, method: str, params: Any = None) -> int:
        """Send a request without waiting for its answer (for a connection whose
        replies another thread reads with listen()); returns its id."""
        msg_id = next(self._ids)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self._sock.sendall(rpc.encode(message))
        return msg_id

    def call(self, method: str, params: Any = None,
             on_notification: Notification | None = None) -> Any:  # fmt: skip
        msg_id = self.send(method, params)
        while True:
            line = self._file.readline()
            if not line:
                raise HelperError(rpc.INTERNAL_ERROR, "the helper closed the connection")
            reply = json.loads(line)
            if "method" in reply:
                if on_notification is not None:
                    on_notification(reply["method"], reply.get("params"))
                continue
            if reply.get("id") not in (msg_id, None):
                continue
            if "error" in reply:
                error = reply["error"]
                raise HelperError(error["code"], error["message"], error.get("data"))
            return reply["result"]
