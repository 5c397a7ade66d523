"""The editor tells whether a helper runs, and how to get one (issue: packaging 3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nstopo.gui.helperbar import HelperBar
from nstopo.gui.mainwindow import MainWindow


def test_without_a_helper_it_says_how_to_start_one(qtbot, tmp_path: Path) -> None:
    window = MainWindow(helper_socket=str(tmp_path / "none.sock"))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    bar = window.helper_bar
    assert bar is not None
    qtbot.waitUntil(lambda: "No helper is running" in bar.text.text(), timeout=5000)
    assert "sudo systemctl start nstopo-helper.socket" in bar.text.text()
    assert not bar.connected
    if os.geteuid() == 0:
        assert bar.button.text() == "Start a helper for this session"
    window.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="starting a session helper needs root")
def test_as_root_it_starts_a_helper_for_the_session(qtbot, tmp_path: Path) -> None:
    socket = tmp_path / "session.sock"
    bar = HelperBar(str(socket), str(tmp_path / "state"))
    qtbot.addWidget(bar)
    try:
        qtbot.waitUntil(lambda: bar.button.isVisibleTo(bar), timeout=5000)
        with qtbot.waitSignal(bar.status_changed, timeout=20000) as up:
            bar.button.click()
        assert up.args == [True] and bar.connected
        assert "Helper running at" in bar.text.text()
        assert bar.session_helper is not None
        pid = bar.session_helper.processId()
        assert Path(f"/proc/{pid}").exists()
    finally:
        bar.stop_session_helper()
    qtbot.waitUntil(lambda: not bar.connected, timeout=15000)  # it notices the helper gone
    assert "No helper is running" in bar.text.text() and not socket.exists()
