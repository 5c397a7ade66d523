"""The inspector's `exec:` and `services:` fields of a netns node: one command line
per line of text (commands hold commas and semicolons, so no separator would do)."""

from __future__ import annotations

from typing import Any

from nstopo.model.types import NetnsNode
from PySide6.QtCore import Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QFormLayout, QPlainTextEdit, QWidget

HINTS = {
    "exec": (
        "ip route add 10.9.0.0/16 via 10.77.0.1",
        "Startup commands: one per line, run once in order (sh -c, as you) after the\n"
        "node is deployed or changed (`nstopo apply` prints their output).",
    ),
    "services": (
        "python3 -m http.server 80",
        "Services: one per line, kept running while the lab runs (restarted when they\n"
        "end); their output: nstopo logs LAB NODE",
    ),
}


class CommandsEdit(QPlainTextEdit):
    """A few lines of commands; like QLineEdit, says when editing is finished."""

    editingFinished = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.editingFinished.emit()


def add_command_fields(
    form: QFormLayout, fields: dict[str, QWidget], node: Any, apply: Any
) -> None:
    """The two fields, on a netns node's form (the inspector's hook)."""
    if not isinstance(node, NetnsNode):
        return
    for key in ("exec", "services"):
        edit = CommandsEdit()
        edit.setObjectName(key)
        edit.setPlainText("\n".join(getattr(node, key)))
        edit.setPlaceholderText(HINTS[key][0])
        edit.setToolTip(HINTS[key][1])
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 4)
        edit.editingFinished.connect(apply)
        form.addRow(key, edit)
        fields[key] = edit


def command_changes(fields: dict[str, QWidget]) -> dict[str, tuple[str, ...]]:
    """What the fields say, as the node's values (blank lines dropped)."""
    changes = {}
    for key in ("exec", "services"):
        edit = fields.get(key)
        if isinstance(edit, QPlainTextEdit):
            lines = (line.strip() for line in edit.toPlainText().splitlines())
            changes[key] = tuple(line for line in lines if line)
    return changes
