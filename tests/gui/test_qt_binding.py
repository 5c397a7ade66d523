"""The Qt binding survives what the editor does: many signal emissions into Python
slots. PySide6 6.12.0 aborts here ("none_dealloc"), hence the pin in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import os
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication
app = QApplication([])
class Source(QObject):
    changed = Signal(str)
class Sink(QObject):
    def slot(self, text):
        return None
source, sink = Source(), Sink()
source.changed.connect(sink.slot)
for _ in range(20000):
    source.changed.emit("x")
print("survived")
"""


def test_many_signal_emissions_do_not_crash_the_binding() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "survived" in done.stdout, (
        f"the installed PySide6 crashes on signal emissions:\n{done.stderr[-400:]}"
    )
