"""The "About this lab" panel: the open file's leading comment, shown in the app.

The bundled examples explain themselves in their header comment (what to look at,
what to try); the welcome page shows it before opening, and this panel keeps it in
view once the lab is open. Any topology file that starts with a comment gets the same.
"""

from __future__ import annotations

from pathlib import Path

from nstopo.model.examples import header_comment, read_example
from PySide6.QtWidgets import QTextBrowser

from .document import Document
from .welcome import explanation_html

NOTHING = (
    "<p>This lab's file has no explanation. A comment block at the top of a topology "
    "file (lines starting with <tt>#</tt>) is shown here, as the bundled examples "
    "do.</p>"
)


class AboutLabPanel(QTextBrowser):
    def __init__(self) -> None:
        super().__init__()
        self.setOpenExternalLinks(False)
        self.explained: Path | None = None  # the file whose explanation is shown
        self.setHtml(NOTHING)

    def show_document(self, doc: Document) -> bool:
        """Show the explanation of the document's file; False if it has none."""
        path = doc.path
        try:
            text = path.read_text() if path is not None else ""
        except (OSError, UnicodeDecodeError):
            text = ""
        if not header_comment(text):
            self.explained = None
            self.setHtml(NOTHING)
            return False
        assert path is not None
        self.explained = path
        self.setHtml(explanation_html(read_example(path)))
        return True
