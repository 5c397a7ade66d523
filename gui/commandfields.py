"""The inspector's multi-line fields of a netns node: `exec:` and `services:`, one
command line per line of text (commands hold commas and semicolons, so no separator
would do), and `firewall:`, an nftables ruleset as `nft -f` reads it."""

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
    "firewall": (
        "table inet filter {\n  chain forward {\n    type filter hook forward priority 0;",
        "An nftables ruleset, as `nft -f` reads it: loaded atomically in this namespace\n"
        "on deploy and replaced as a whole when it changes (empty: no firewall).",
    ),
}
LINES = {"exec": 4, "services": 4, "firewall": 7}  # the height of each field, in lines


class CommandsEdit(QPlainTextEdit):
    """A few lines of commands; like QLineEdit, says when editing is finished."""

    editingFinished = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.editingFinished.emit()


def add_command_fields(
    form: QFormLayout, fields: dict[str, QWidget], node: Any, apply: Any
) -> None:
    """The three fields, on a netns node's form (the inspector's hook)."""
    if not isinstance(node, NetnsNode):
        return
    for key, lines in LINES.items():
        edit = CommandsEdit()
        edit.setObjectName(key)
        value = getattr(node, key)
        edit.setPlainText(value or "" if key == "firewall" else "\n".join(value))
        edit.setPlaceholderText(HINTS[key][0])
        edit.setToolTip(HINTS[key][1])
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines)
        edit.editingFinished.connect(apply)
        form.addRow(key, edit)
        fields[key] = edit


def command_changes(fields: dict[str, QWidget], node: Any) -> dict[str, Any]:
    """What the fields say, as the node's values (blank command lines dropped; the
    ruleset as typed, None when blank, and `node`'s own text while it says the same, so
    committing another field never rewrites a ruleset)."""
    changes: dict[str, Any] = {}
    for key in LINES:
        edit = fields.get(key)
        if not isinstance(edit, QPlainTextEdit):
            continue
        text = edit.toPlainText()
        if key == "firewall":
            kept = node.firewall if (node.firewall or "").strip() == text.strip() else None
            changes[key] = kept or (text.strip() + "\n" if text.strip() else None)
        else:
            lines = (line.strip() for line in text.splitlines())
            changes[key] = tuple(line for line in lines if line)
    return changes
