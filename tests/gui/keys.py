"""Typing into a field as a person does: focus it, replace its text with key presses,
confirm with Return (which is what makes the inspector apply an edit)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit


def type_text(qtbot, field: QLineEdit | QAbstractSpinBox, text: str) -> None:
    field.setFocus()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)
