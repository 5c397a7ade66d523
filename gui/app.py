"""`nstopo gui [FILE]`: open the editor."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from .autosave import recoverable
from .mainwindow import MainWindow


def main(path: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("nstopo")
    app.setDesktopFileName("org.nstopo.nstopo")
    window = MainWindow()
    # What exists now lives as long as the application: out of the garbage collector's
    # full passes, which otherwise stall the UI for tens of milliseconds while a running
    # lab streams events.
    gc.freeze()
    recovered = False
    for saved in recoverable():
        answer = QMessageBox.question(
            window,
            "Recover unsaved work?",
            f"nstopo did not close normally. Open the autosave {saved.name}?",
        )
        if answer == QMessageBox.StandardButton.Yes:
            window.recover(saved)
            recovered = True
            saved.unlink()
            break
        saved.unlink()
    if path:
        window.open_path(Path(path))
    elif not (window.doc.dirty or recovered):  # a first look: what nstopo is, the examples
        window.newcomer.show_welcome()
    window.show()
    return app.exec()
