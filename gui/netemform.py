"""The link inspector's impairment grid: one row per netem key, one column per
direction (what each end sends), side by side as in CORE's asymmetric link dialog.

The grid shows what each end really sends with (its own `netem`, else the link's).
An edit writes the link back in the file's plainest form: the same impairment both
ways goes on the link, different ones on each endpoint; a link whose impairments did
not change keeps its netem keys exactly as written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from nstopo.model.netem import FIELDS, Netem, effective, label
from nstopo.model.types import Link
from pydantic import TypeAdapter, ValidationError
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QWidget

HINTS = {
    "delay": ("20ms", "Added to every packet this end sends: 20ms, 1.5s, 500us"),
    "jitter": ("2ms", "The delay varies by up to this much (needs a delay)"),
    "loss": ("1%", "Packets dropped at random: 1%, 0.5%"),
    "duplicate": ("0%", "Packets sent twice"),
    "reorder": ("0%", "Packets sent at once, ahead of delayed ones (needs a delay)"),
    "corrupt": ("0%", "Packets with a bit flipped"),
    "rate": ("10mbit", "The most this end sends: 512kbit, 10mbit, 1gbit"),
    "limit": ("1000", "Packets the queue holds (default 1000)"),
}
TAGS = ("a", "b")


def field_key(tag: str, name: str) -> str:
    return f"netem.{tag}.{name}"


def directions(link: Link) -> tuple[Netem | None, Netem | None]:
    """What endpoint 0 and endpoint 1 send with."""
    a, b = link.endpoints
    return effective(link.netem, a.netem), effective(link.netem, b.netem)


def add_grid(
    form: Any, fields: dict[str, QWidget], link: Link, apply: Callable[[], None]
) -> QWidget:
    """The grid as one row of `form` (a QFormLayout); its edits are in `fields`."""
    grid_widget = QWidget()
    grid_widget.setObjectName("netem")
    grid = QGridLayout(grid_widget)
    grid.setContentsMargins(0, 0, 0, 0)
    a, b = link.endpoints
    grid.addWidget(QLabel(f"{a.node} → {b.node}"), 0, 1)
    grid.addWidget(QLabel(f"{b.node} → {a.node}"), 0, 2)
    for row, name in enumerate(FIELDS, start=1):
        grid.addWidget(QLabel(name), row, 0)
        for column, (tag, netem) in enumerate(zip(TAGS, directions(link), strict=True), 1):
            value = getattr(netem, name) if netem else None
            edit = QLineEdit("" if value is None else str(value))
            edit.setObjectName(field_key(tag, name))
            edit.setPlaceholderText(HINTS[name][0])
            edit.setToolTip(HINTS[name][1])
            edit.editingFinished.connect(apply)
            grid.addWidget(edit, row, column)
            fields[field_key(tag, name)] = edit
    form.addRow("impairment", grid_widget)
    return grid_widget


def read_direction(text_of: Callable[[str], str], tag: str) -> Netem | None:
    """One column as a Netem (None: nothing typed), checked as a file's would be.
    Raises ValueError with the key and the reason."""
    data: dict[str, Any] = {}
    for name in FIELDS:
        text = text_of(field_key(tag, name))
        if text:
            data[name] = int(text) if name == "limit" and text.isdigit() else text
    if not data:
        return None
    try:
        return TypeAdapter(Netem).validate_python(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"])
        reason = first["msg"].removeprefix("Value error, ")
        raise ValueError(f"impairment {where}: {reason}") from None


def with_impairments(old: Link, new: Link, text_of: Callable[[str], str]) -> Link:
    """`new` (the inspector's other fields, no netem) with the grid's impairments."""
    wanted = (read_direction(text_of, "a"), read_direction(text_of, "b"))
    a, b = new.endpoints
    if wanted == directions(old):  # unchanged: keep the keys as they are written
        ends = tuple(
            dataclasses.replace(ep, netem=was.netem)
            for ep, was in zip(new.endpoints, old.endpoints, strict=True)
        )
        return dataclasses.replace(new, netem=old.netem, endpoints=ends)
    if wanted[0] == wanted[1]:
        ends = (dataclasses.replace(a, netem=None), dataclasses.replace(b, netem=None))
        return dataclasses.replace(new, netem=wanted[0], endpoints=ends)
    ends = tuple(
        dataclasses.replace(ep, netem=netem) for ep, netem in zip((a, b), wanted, strict=True)
    )
    return dataclasses.replace(new, netem=None, endpoints=ends)


def canvas_label(link: Link) -> str:
    """The link's impairment in a few words: the same both ways, or each direction."""
    ab, ba = (label(n) for n in directions(link))
    if ab == ba:
        return ab
    return " · ".join(part for part in (ab and f"→ {ab}", ba and f"← {ba}") if part)
