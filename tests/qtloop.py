"""Turning Qt's event loop by hand, for scripts that drive the editor outside pytest-qt
(benchmarks, screenshot scripts)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtWidgets import QApplication


def pump(seconds: float) -> None:
    """Let the editor run (paint, read the helper) for `seconds`."""
    app = QApplication.instance()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.001)


def wait_until(test: Callable[[], bool], seconds: float = 60) -> None:
    """Run the event loop until `test()` is true; RuntimeError after `seconds`."""
    app = QApplication.instance()
    end = time.monotonic() + seconds
    while not test():
        if time.monotonic() > end:
            raise RuntimeError("timed out waiting for the editor")
        app.processEvents()
        time.sleep(0.002)
