"""The helper's status above the canvas: connected, or how to get one running.

Follows the editor's HelperConnection (asynchronous: the UI never waits; it retries
every second, so a helper started meanwhile is noticed). Without one: as root the app
can start a helper for this session; otherwise it offers pkexec (which asks for
consent) where that is installed, and always says the plain commands. Connected, it
runs the doctor (`host.doctor`, plus what only the editor sees) when it connects, when
a lab is applied or destroyed and every half minute, and says what it found in a line;
its button shows the details and the fixes.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from nstopo.backend.doctorclient import all_findings
from PySide6.QtCore import QProcess, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from .connection import CallError, HelperConnection
from .doctordialog import DoctorDialog
from .elided import ElidedLabel

DOCTOR_EVERY_MS = 30_000


class HelperBar(QFrame):
    status_changed = Signal(bool)  # connected?
    doctor_changed = Signal()  # new findings (self.findings)

    def __init__(
        self,
        socket: str | None = None,
        state_dir: str | None = None,
        connection: HelperConnection | None = None,
    ) -> None:
        super().__init__()
        self.connection = connection or HelperConnection(socket, self)
        self.socket = self.connection.path
        self.state_dir = state_dir
        self.connected = False
        self.session_helper: QProcess | None = None
        self.setObjectName("helperBar")
        self.dot = QLabel("●")
        self.text = ElidedLabel(Qt.TextElideMode.ElideRight)  # one line; the whole: tooltip
        self.button = QPushButton()
        self.button.clicked.connect(self.start_helper)
        self.findings: list[dict[str, Any]] = []
        self.doctor_dialog: DoctorDialog | None = None
        self.doctor_button = QPushButton()
        self.doctor_button.setToolTip("What the doctor found, what it breaks and the fixes")
        self.doctor_button.clicked.connect(self.show_doctor)
        self.doctor_button.hide()
        self._doctor_timer = QTimer(self)
        self._doctor_timer.setInterval(DOCTOR_EVERY_MS)
        self._doctor_timer.timeout.connect(self.run_doctor)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.addWidget(self.dot)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.doctor_button)
        layout.addWidget(self.button)
        self.connection.notification.connect(self._notified)
        self.connection.ready.connect(self._reachable)
        self.connection.lost.connect(self._unreachable)
        self.connection.unreachable.connect(self._unreachable)
        self.connection.refused.connect(self._refused)
        if self.connection.is_ready:
            self._reachable()
        else:
            self._show(False, f"Looking for the helper at {self.socket}…", None)

    def _reachable(self) -> None:
        self._show(True, f"Helper running at {self.socket}: labs can be deployed.", None)
        self._doctor_timer.start()
        self.run_doctor()

    # -- the doctor ------------------------------------------------------------------------------
    def run_doctor(self) -> None:
        if self.connection.is_ready:
            self.connection.call("host.doctor", None, self._diagnosed, self._no_doctor, owner=self)

    def _notified(self, method: str, params: Any) -> None:
        if method == "lab.changed":  # a lab came or went: what it relies on changed
            self.run_doctor()

    def _diagnosed(self, answer: dict[str, Any]) -> None:
        server = (self.connection.server or {}).get("server", "")
        self._show_findings(all_findings(server, answer))

    def _no_doctor(self, error: CallError) -> None:
        self._show_findings([])  # an older helper without host.doctor, or it went away

    def _show_findings(self, findings: list[dict[str, Any]]) -> None:
        if findings == self.findings:
            return
        self.findings = findings
        base = f"Helper running at {self.socket}: labs can be deployed."
        if findings and self.connected:
            # What stops a lab's traffic first; then the machine's, then the caller's.
            first = sorted(findings, key=lambda f: not f.get("affects"))[0]["title"]
            more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
            self.text.setText(f"{base} Doctor: {first}{more}.")
            self.doctor_button.setText(f"Doctor: {len(findings)} finding"
                                       f"{'s' if len(findings) != 1 else ''}…")  # fmt: skip
            self.doctor_button.show()
            self.dot.setStyleSheet("color: #d98a00;")
        elif self.connected:
            self.text.setText(base)
            self.doctor_button.hide()
            self.dot.setStyleSheet("color: #1e8e3e;")
        if self.doctor_dialog is not None:
            self.doctor_dialog.show_findings(findings)
        self.doctor_changed.emit()

    def show_doctor(self) -> DoctorDialog:
        if self.doctor_dialog is None:
            self.doctor_dialog = DoctorDialog(self.findings, self)
        self.doctor_dialog.show_findings(self.findings)
        self.doctor_dialog.show()
        self.doctor_dialog.raise_()
        return self.doctor_dialog

    def _refused(self, why: str) -> None:
        self._show(
            False,
            f"The helper at {self.socket} refuses you ({why}): you are not in the "
            "nstopo group. Ask an administrator to add you, then log in again.",
            None,
        )

    def _unreachable(self) -> None:
        self._doctor_timer.stop()
        self.doctor_button.hide()
        self.findings = []
        if os.geteuid() == 0:
            action = "Start a helper for this session"
        elif shutil.which("pkexec"):
            action = "Start the helper (asks for your password)"
        else:
            action = None
        self._show(
            False,
            f"No helper is running at {self.socket}: you can design labs, but "
            "not deploy them. Start it with: sudo systemctl start nstopo-helper.socket "
            "(or sudo nstopo helper).",
            action,
        )

    def _show(self, connected: bool, text: str, action: str | None) -> None:
        changed = connected != self.connected
        self.connected = connected
        self.dot.setStyleSheet(f"color: {'#1e8e3e' if connected else '#d98a00'};")
        self.text.setText(text)
        self.button.setVisible(action is not None)
        if not connected:
            self.doctor_button.hide()
        if action:
            self.button.setText(action)
        if changed:
            self.status_changed.emit(connected)

    def helper_command(self) -> list[str]:
        nstopo = str(Path(sys.executable).parent / "nstopo")
        args = [nstopo, "helper", "--socket", self.socket]
        if self.state_dir:
            args += ["--state-dir", self.state_dir]
        return args if os.geteuid() == 0 else ["pkexec", *args]

    def start_helper(self) -> None:
        """As root: a helper for this session (it ends with the app). Otherwise through
        pkexec, whose authentication dialog is the user's consent."""
        if self.session_helper is not None:
            return
        command = self.helper_command()
        self.session_helper = QProcess(self)
        self.session_helper.finished.connect(self._helper_ended)
        self.session_helper.start(command[0], command[1:])
        self.text.setText("Starting the helper…")
        QTimer.singleShot(300, self.connection.connect_now)

    def _helper_ended(self) -> None:
        self.session_helper = None
        self.connection.connect_now()

    def stop_session_helper(self) -> None:
        if self.session_helper is not None:
            self.session_helper.terminate()
            self.session_helper.waitForFinished(5000)
            self.session_helper = None
