"""The editing half of the canvas's context menu: what a right-click on a node, a link
or the empty canvas offers in any editor (rename, delete, properties; paste, select all,
lay out, add a node right there). The live half (ping, capture, rates, terminals) follows
it, from livemenu.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMenu

from .livemenu import on_trigger
from .panels import KINDS


class EditCommands(Protocol):
    """What the items do (the main window)."""

    def rename_node(self, node: str) -> object: ...
    def delete_items(self, nodes: list[str], links: list[str]) -> None: ...
    def show_properties(self, nodes: list[str], links: list[str]) -> None: ...
    def paste_at(self, point: QPointF) -> None: ...
    def select_all(self) -> None: ...
    def layout_all(self) -> None: ...
    def add_node_at(self, kind: str, point: QPointF) -> object: ...
    def can_paste(self) -> bool: ...


def edit_items(
    menu: QMenu,
    commands: EditCommands,
    kind: str,
    key: str,
    at: QPointF,
    selection: tuple[list[str], list[str]],
    read_only: bool = False,
) -> None:
    """Fill `menu` for a right-click on `kind` ("node", "link" or "canvas") at `at`.
    `selection` is what Delete and Properties act on: the selection the clicked item is
    part of (the scene selects the item first, as file managers do)."""

    def add(text: str, slot: Callable[[], object], enabled: bool = True) -> None:
        action = menu.addAction(text)
        on_trigger(action, slot)
        action.setEnabled(enabled)

    nodes, links = selection
    count = len(nodes) + len(links)
    if kind == "canvas":
        add("Paste here", lambda: commands.paste_at(at), commands.can_paste())
        add("Select all", commands.select_all)
        add("Auto layout", commands.layout_all)
        adding = menu.addMenu("Add here")
        for node_kind, label in KINDS:
            action = adding.addAction(label)
            on_trigger(action, lambda k=node_kind: commands.add_node_at(k, at))
        return
    if kind == "node":
        add(f"Rename {key}…", lambda: commands.rename_node(key), not read_only)
    what = key if kind == "node" and count == 1 else (f"{count} items" if count > 1 else "link")
    add(f"Delete {what}", lambda: commands.delete_items(nodes, links), not read_only)
    add("Properties", lambda: commands.show_properties(nodes, links))
