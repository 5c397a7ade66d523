"""PySide6 editor."""
