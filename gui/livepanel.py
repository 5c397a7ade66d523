"""The Live dock: deploy, apply the pending changes, destroy; progress per step; the
pending changes as the exact `ip` commands Apply will run, after a comment naming what
was deleted from the drawing (no longer on the canvas to show it); the helper's last error
(until the document changes: then it is about a drawing that is no longer there).
Destroy asks first."""

from __future__ import annotations

from nstopo.model.validate import has_errors
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .live import LiveSession

MAX_DRIFT_LINES = 6


class LivePanel(QWidget):
    def __init__(self, session: LiveSession) -> None:
        super().__init__()
        self.session = session
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.deploy_button = QPushButton("Deploy")
        self.deploy_button.setToolTip("Make the drawing real (or apply the pending changes)")
        self.deploy_button.clicked.connect(session.deploy)
        self.destroy_button = QPushButton("Destroy")
        self.destroy_button.setToolTip("Remove everything of this lab from the kernel")
        self.destroy_button.clicked.connect(self.destroy_lab)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.step = QLabel()
        self.step.setWordWrap(True)
        self.drift = QLabel()
        self.drift.setWordWrap(True)
        self.drift.setStyleSheet("color: #c2185b;")
        self._drift_timer = QTimer(self)  # kernel events come in bursts: list drift calmly
        self._drift_timer.setSingleShot(True)
        self._drift_timer.setInterval(200)
        self._drift_timer.timeout.connect(self.refresh)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self._error_seen: object = None  # the error shown, and the document it was about
        self._error_revision = -1
        self.error.setStyleSheet("color: #d93025;")
        self.pending = QPlainTextEdit()
        self.pending.setReadOnly(True)
        self.pending.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFont("DejaVu Sans Mono")
        mono.setPixelSize(11)
        self.pending.setFont(mono)
        buttons = QHBoxLayout()
        buttons.addWidget(self.deploy_button)
        buttons.addWidget(self.destroy_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.step)
        layout.addWidget(self.error)
        layout.addWidget(self.drift)
        layout.addWidget(QLabel("Pending changes (what Apply runs):"))
        layout.addWidget(self.pending, 1)
        session.changed.connect(self.refresh)
        session.doc.changed.connect(self.refresh)
        session.progress.connect(self._progress)
        session.interface_changed.connect(self._kernel_changed)
        self.refresh()

    def ask_destroy(self, lab: str) -> bool:
        """Really destroy? (a dialog; tests answer it themselves)"""
        answer = QMessageBox.question(
            self,
            "Destroy lab",
            f"Destroy lab “{lab}”? Its namespaces, veths and bridges are removed from the "
            "kernel (the drawing stays, and can be deployed again).",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def destroy_lab(self) -> bool:
        """Destroy the running lab after asking; the Live menu's Destroy comes here too."""
        s = self.session
        if not (s.running and s.connected) or s.busy or not self.ask_destroy(s.lab):
            return False
        s.destroy()
        return True

    def _current_error(self) -> str | None:
        """The helper's last error while the document is still the one it was about."""
        error = self.session.last_error
        revision = self.session.doc.undo.index()
        if error is not self._error_seen:
            self._error_seen, self._error_revision = error, revision
        if error is None or revision != self._error_revision:
            return None
        return error[0]

    def _foreign(self) -> bool:
        """Does the document still hold objects of the live system that are not nstopo's?"""
        doc = self.session.doc
        return bool(doc.foreign_nodes & set(doc.topology.node_names()))

    def _kernel_changed(self) -> None:
        if not self._drift_timer.isActive():  # at most five refreshes a second
            self._drift_timer.start()

    def _show_drift(self) -> None:
        lines = self.session.drifts()
        shown = lines[:MAX_DRIFT_LINES]
        if len(lines) > len(shown):
            shown.append(f"… and {len(lines) - len(shown)} more")
        self.drift.setText("Drift from the lab (changed outside nstopo):\n" + "\n".join(shown))
        self.drift.setVisible(bool(lines))

    def _removed(self) -> list[str]:
        """What was deleted from the drawing and still runs: Apply removes it."""
        changes = self.session.changes() if self.session.running else None
        if changes is None or not changes.removed:
            return []
        return ["# deleted, Apply removes:"] + [f"#   {what}" for what in changes.removed]

    def _progress(self, index: int, total: int, command: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(index + 1)
        self.step.setText(command)

    def refresh(self) -> None:
        s = self.session
        lab = s.lab
        steps = s.pending_steps if s.running else []
        if not s.connected:
            text = f"Lab “{lab}”: no helper connected, so nothing can be deployed."
        elif s.busy:
            text = f"{s.busy} lab “{lab}”…"
        elif not s.running and self._foreign():
            text = (
                f"Lab “{lab}” holds objects nstopo did not make (greyed): it is a view of "
                "the live system. Save it and open the file to design from it."
            )
        elif not s.running and has_errors(s.doc.problems()):
            text = f"Lab “{lab}” has errors (see Problems): fix them, then deploy."
        elif not s.running:
            text = f"Lab “{lab}” is not deployed."
        elif s.pending_problem:
            text = f"Lab “{lab}” is running. The document cannot be applied: {s.pending_problem}"
        elif steps and s.drifts():
            text = (
                f"Lab “{lab}” is running, but the kernel differs from it (below): "
                f"Apply puts it back ({len(steps)} change(s))."
            )
        elif steps:
            text = f"Lab “{lab}” is running; {len(steps)} change(s) pending."
        elif s.drifts():
            text = f"Lab “{lab}” is running, but the kernel differs from it (below)."
        else:
            text = f"Lab “{lab}” is running and matches the drawing."
        self.status.setText(text)
        apply = f"Apply {len(steps)} change(s)" if steps else "Apply"
        self.deploy_button.setText(apply if s.running else "Deploy")
        buildable = s.running or not (has_errors(s.doc.problems()) or self._foreign())
        self.deploy_button.setEnabled(
            s.connected and not s.busy and buildable and (not s.running or bool(steps))
        )
        self.destroy_button.setEnabled(s.connected and not s.busy and s.running)
        self.pending.setPlainText("\n".join(self._removed() + [st["command"] for st in steps]))
        error = self._current_error()
        self.error.setText(error or "")
        self.error.setVisible(error is not None)
        self._show_drift()
        if not s.busy:
            self.step.setText("")
            if self.progress.maximum() == 0:
                self.progress.setRange(0, 1)
