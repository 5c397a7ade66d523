"""Our terminal as a node's: raw mode, bytes both ways with a pty master, resizes."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import termios
import tty
from collections.abc import Iterator

from nstopo.backend.ptyclient import set_size


@contextlib.contextmanager
def _raw(fd: int) -> Iterator[None]:
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)


def relay(master: int) -> None:
    """Until the node's side closes: keys go to it (Ctrl-C included: its line
    discipline turns it into SIGINT there), its output comes here."""
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()

    def resized(*_: object) -> None:
        with contextlib.suppress(OSError):
            size = os.get_terminal_size(stdin)
            set_size(master, size.lines, size.columns)

    previous = signal.signal(signal.SIGWINCH, resized)
    watched = [master, stdin]
    try:
        with _raw(stdin):
            while True:
                try:
                    ready, _, _ = select.select(watched, [], [])
                except InterruptedError:
                    continue
                if master in ready:
                    try:
                        data = os.read(master, 65536)
                    except OSError:  # EIO: every holder of the pty's other side is gone
                        return
                    if not data:
                        return
                    os.write(stdout, data)
                if stdin in ready:
                    data = os.read(stdin, 65536)
                    if not data:
                        watched.remove(stdin)  # our input ended; its output may go on
                        os.write(master, b"\x04")
                        continue
                    os.write(master, data)
    finally:
        signal.signal(signal.SIGWINCH, previous)
