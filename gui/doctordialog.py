"""The doctor's findings in full: for each, what it breaks and the command that fixes
it (the same text `nstopo doctor` prints; the commands can be selected and copied)."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget


def findings_html(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "<p>Nothing found that breaks labs on this machine.</p>"
    parts = []
    for finding in findings:
        fix = html.escape(finding["fix"])
        labs = "".join(
            f"<br><i>lab {html.escape(a['lab'])}: {html.escape(', '.join(a['nodes']))}</i>"
            for a in finding.get("affects", [])
        )
        parts.append(
            f"<h3>{html.escape(finding['title'])}</h3>"
            f"<p>{html.escape(finding['breaks'])}{labs}</p>"
            f'<p>Fix:</p><pre style="white-space: pre-wrap">{fix}</pre>'
        )
    return "".join(parts)


class DoctorDialog(QDialog):
    def __init__(self, findings: list[dict[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Doctor: what on this machine breaks labs")
        self.resize(720, 440)
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.show_findings(findings)

    def show_findings(self, findings: list[dict[str, Any]]) -> None:
        self.findings = findings
        self.text.setHtml(findings_html(findings))
