"""The client side of `exec.pty`: the helper starts the command on a pty and hands
the master to us over the socket (SCM_RIGHTS); we then read and write it directly."""

from __future__ import annotations

import _socket
import array
import fcntl
import os
import struct
import termios
from typing import TYPE_CHECKING, Any

from nstopo.protocol.errors import ErrorCode, RpcError
from nstopo.protocol.methods import Method
from nstopo.protocol.wire import decode

from .client import HelperClient

if TYPE_CHECKING:
    from nstopo.protocol.messages import PtyParams, PtyResult

_FD_SPACE = _socket.CMSG_SPACE(array.array("i").itemsize)


def open_pty(client: HelperClient, params: PtyParams) -> tuple[int, PtyResult]:
    """(the pty master fd, the answer); the caller owns and closes the fd."""
    msg_id = client.send(Method.EXEC_PTY, dict(params))
    sock: Any = client._sock
    received: list[int] = []
    try:
        while True:
            while not client._frames:
                data, ancillary, _flags, _addr = sock.recvmsg(65536, _FD_SPACE)
                for level, kind, payload in ancillary:
                    if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                        fds = array.array("i")
                        fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                        received.extend(fds)
                if not data:
                    raise RpcError(ErrorCode.NOT_CONNECTED, "the helper closed the connection")
                client._frames.extend(client._framer.feed(data))
            frame = client._frames.popleft()
            if isinstance(frame, bytes):
                message = decode(frame)
                if not message.is_notification and message.id == msg_id:
                    result: PtyResult = message.value()
                    if not received:
                        raise RpcError(ErrorCode.INTERNAL_ERROR, "the helper sent no terminal")
                    fd = received.pop(0)
                    os.set_inheritable(fd, False)
                    return fd, result
    finally:
        for extra in received:
            os.close(extra)


def set_size(fd: int, rows: int, cols: int) -> None:
    """Resize the terminal: the kernel sends SIGWINCH to its foreground job."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("4H", rows, cols, 0, 0))


def wait_status(client: HelperClient, pid: int) -> int:
    """The terminal command's exit status (once its pty has closed)."""
    return int(client.call(Method.EXEC_WAIT, {"pid": pid})["status"])
