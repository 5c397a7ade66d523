"""Finding the real QAction a user would click: in the window's menu bar, by the words
shown (without the & of the mnemonic), or in a context menu."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu


def plain(text: str) -> str:
    return text.replace("&", "")


def menu_of(window: QMainWindow, title: str) -> QMenu:
    for action in window.menuBar().actions():
        if plain(action.text()) == title and action.menu() is not None:
            return action.menu()  # type: ignore[return-value]
    raise AssertionError(f"no menu {title!r} in {[a.text() for a in window.menuBar().actions()]}")


def find_action(menu: QMenu, text: str) -> QAction:
    """The entry whose shown words start with `text` (submenus included)."""
    for action in menu.actions():
        if action.menu() is not None:
            try:
                return find_action(action.menu(), text)  # type: ignore[arg-type]
            except AssertionError:
                pass
        if plain(action.text()).startswith(text):
            return action
    raise AssertionError(f"no {text!r} in {[plain(a.text()) for a in menu.actions()]}")


def menu_action(window: QMainWindow, title: str, text: str) -> QAction:
    return find_action(menu_of(window, title), text)


def trigger(window: QMainWindow, title: str, text: str) -> None:
    action = menu_action(window, title, text)
    assert action.isEnabled(), f"{title} → {text} is disabled"
    action.trigger()
