"""The first thing a newcomer sees: what nstopo does, how to start (a new lab, a file,
a recent one), and the bundled examples, each with its explanation (the example
file's own header comment) and its "Try:" commands, one click from opening it.

It lies over the empty canvas and goes away as soon as there is something to see: a
file or example opened, a node dragged in from the palette (it steps aside when a
drag comes near), or Close. Help → Welcome brings it back."""

from __future__ import annotations

import html
from pathlib import Path

from nstopo.model.examples import Example, bundled_examples
from nstopo.model.lessons import Lesson
from nstopo.resources import EXAMPLES
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

INTRO = (
    "Draw network namespaces, veth pairs, bridges and tun/tap devices, and make them "
    "real: with the helper running, <b>Deploy</b> builds the drawing in the kernel, "
    "and every interface shows its live state. Drag a kind from the <b>Palette</b> onto "
    "the canvas, Shift+drag from one node to another for a veth, or start from an "
    "example below."
)


class WelcomeView(QFrame):
    new_requested = Signal()
    open_requested = Signal()
    path_chosen = Signal(Path)  # an example or a recent file
    lesson_chosen = Signal(str)  # a lesson's name (its file's stem)

    def __init__(
        self,
        recent: list[str],
        lessons: list[tuple[Lesson, str]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Window)
        self.setAcceptDrops(True)
        self.examples: list[Example] = bundled_examples(EXAMPLES)
        heading = QLabel("Welcome to nstopo")
        big = heading.font()
        big.setPointSizeF(big.pointSizeF() * 1.6)
        big.setBold(True)
        heading.setFont(big)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        self.new_button = QPushButton("New lab")
        self.new_button.setToolTip("An empty drawing (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        self.open_button = QPushButton("Open a file…")
        self.open_button.setToolTip("A topology file (Ctrl+O)")
        self.open_button.clicked.connect(self.open_requested)
        self.close_button = QPushButton("Close")
        self.close_button.setToolTip("Hide this page (Help → Welcome shows it again)")
        self.close_button.clicked.connect(self.hide)
        self.recent = QListWidget()
        for path in recent:
            item = QListWidgetItem(f"{Path(path).name}  ({Path(path).parent.name or '/'})")
            item.setToolTip(path)
            item.setData(Qt.ItemDataRole.UserRole, path)
            self.recent.addItem(item)
        self.recent.itemActivated.connect(
            lambda item: self.path_chosen.emit(Path(item.data(Qt.ItemDataRole.UserRole)))
        )
        self.example_list = QListWidget()
        for example in self.examples:
            item = QListWidgetItem(f"{example.name} — {example.title}")
            item.setToolTip(example.title)
            self.example_list.addItem(item)
        self.example_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.example_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.example_list.currentRowChanged.connect(self._explain)
        self.example_list.itemActivated.connect(lambda *_: self.open_example())
        self.explanation = QTextBrowser()
        self.open_example_button = QPushButton("Open this example")
        self.open_example_button.clicked.connect(self.open_example)
        self.lessons: list[Lesson] = []
        self.lesson_list = QListWidget()
        self.lesson_list.currentRowChanged.connect(self._summarize)
        self.lesson_list.itemActivated.connect(lambda *_: self.start_lesson())
        self.lesson_summary = QTextBrowser()
        self.start_lesson_button = QPushButton("Start this lesson")
        self.start_lesson_button.clicked.connect(self.start_lesson)
        self.set_lessons(lessons or [])

        start = QVBoxLayout()
        start.addWidget(_section("Start"))
        start.addWidget(self.new_button)
        start.addWidget(self.open_button)
        start.addWidget(_section("Recent files"))
        start.addWidget(self.recent if recent else QLabel("(none yet)"), 1)
        if not recent:
            self.recent.hide()
            start.addStretch(1)
        examples = QWidget()
        learn = QVBoxLayout(examples)
        learn.addWidget(self.example_list, 1)
        learn.addWidget(self.explanation, 2)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.open_example_button)
        learn.addLayout(row)
        guided = QWidget()
        column = QVBoxLayout(guided)
        column.addWidget(self.lesson_list, 1)
        column.addWidget(self.lesson_summary, 2)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.start_lesson_button)
        column.addLayout(row)
        self.tabs = QTabWidget()
        self.tabs.addTab(guided, "Lessons")
        self.tabs.addTab(examples, "Examples")
        learn = QVBoxLayout()
        learn.addWidget(_section("Learn: guided lessons, and the study notes' experiments"))
        learn.addWidget(self.tabs, 1)
        columns = QHBoxLayout()
        columns.addLayout(start, 1)
        columns.addLayout(learn, 3)
        top = QHBoxLayout()
        top.addWidget(heading, 1)
        top.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addLayout(top)
        layout.addWidget(intro)
        layout.addLayout(columns, 1)
        if self.examples:
            self.example_list.setCurrentRow(0)

    def _explain(self, row: int) -> None:
        if 0 <= row < len(self.examples):
            example = self.examples[row]
            self.explanation.setHtml(explanation_html(example))

    # -- lessons ---------------------------------------------------------------------------------
    def set_lessons(self, lessons: list[tuple[Lesson, str]]) -> None:
        """The lessons, each with how far the learner got ("2/3 stages", "done")."""
        row = max(self.lesson_list.currentRow(), 0)
        self.lessons = [lesson for lesson, _ in lessons]
        self.lesson_list.clear()
        for i, (lesson, progress) in enumerate(lessons):
            item = QListWidgetItem(f"{i + 1}. {lesson.title}  ({progress})")
            item.setToolTip(lesson.summary)
            self.lesson_list.addItem(item)
        self.start_lesson_button.setEnabled(bool(lessons))
        if lessons:
            self.lesson_list.setCurrentRow(min(row, len(lessons) - 1))

    def _summarize(self, row: int) -> None:
        if 0 <= row < len(self.lessons):
            lesson = self.lessons[row]
            stages = "".join(f"<li>{html.escape(s.title)}</li>" for s in lesson.stages)
            self.lesson_summary.setHtml(
                f"<h3>{html.escape(lesson.title)}</h3><p>{html.escape(lesson.summary)}</p>"
                f"<p>Stages:</p><ol>{stages}</ol>"
            )

    def start_lesson(self) -> None:
        row = self.lesson_list.currentRow()
        if 0 <= row < len(self.lessons):
            self.lesson_chosen.emit(self.lessons[row].name)

    def chosen_example(self) -> Example | None:
        row = self.example_list.currentRow()
        return self.examples[row] if 0 <= row < len(self.examples) else None

    def open_example(self) -> None:
        example = self.chosen_example()
        if example is not None:
            self.path_chosen.emit(example.path)

    # -- lying over the canvas ------------------------------------------------------------------
    def cover(self, widget: QWidget) -> None:
        """Lie over `widget` (the canvas), following its size."""
        self.setParent(widget)
        widget.installEventFilter(_Follower(self, widget))
        self.setGeometry(widget.rect().adjusted(24, 24, -24, -24))
        self.show()
        self.raise_()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """A palette drag is coming to the canvas: step aside and let it drop there."""
        event.ignore()
        self.hide()


class _Follower(QObject):
    def __init__(self, page: WelcomeView, widget: QWidget) -> None:
        super().__init__(page)
        self.page, self.widget = page, widget

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget and event.type() == QEvent.Type.Resize:
            self.page.setGeometry(self.widget.rect().adjusted(24, 24, -24, -24))
        return False


def explanation_html(example: Example) -> str:
    """The header comment as a reader wants it: its hard-wrapped lines flowed into
    paragraphs, and the indented lines (commands to try) kept as they are."""
    parts = [f"<h3>{html.escape(example.name)}</h3>"]
    paragraph: list[str] = []

    def close() -> None:
        if paragraph:
            parts.append(f"<p>{html.escape(' '.join(paragraph))}</p>")
            paragraph.clear()

    for line in example.explanation.splitlines():
        if not line.strip():
            close()
        elif line.startswith((" ", "\t")):
            close()
            parts.append(f"<pre>{html.escape(line.strip())}</pre>")
        else:
            paragraph.append(line.strip())
    close()
    parts.append(f"<p><i>{html.escape(str(example.path))}</i></p>")
    return "".join(parts)


def _section(text: str) -> QLabel:
    label = QLabel(text)
    bold = label.font()
    bold.setBold(True)
    label.setFont(bold)
    return label
