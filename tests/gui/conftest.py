"""GUI tests run offscreen, with their own settings and autosave folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helper_fixtures import helper, sandbox

__all__ = ["helper", "sandbox"]  # live-mode tests run a real helper

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # Qt picks its settings file once a process: start every test with none stored.
    from PySide6.QtCore import QSettings

    QSettings("nstopo", "nstopo").clear()


@pytest.fixture(autouse=True)
def empty_clipboard_after() -> object:
    """Qt's clipboard keeps its data until the process ends; destroying it after the
    test run's QApplication is gone crashes at exit. Leave it empty."""
    yield
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        QGuiApplication.clipboard().clear()
