"""The inspector's exec: and services: fields (issue 15): typed with real keys, one
command per line, they become the node's lists; undo restores them."""

from __future__ import annotations

from nstopo.gui.commandfields import CommandsEdit
from PySide6.QtCore import Qt
from test_editor import opened


def test_typed_commands_become_the_nodes_exec_and_services(qtbot) -> None:
    window = opened(qtbot, "veth-namespaces")
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # focus moves only in the active window
    window.scene.select(["left"])
    startup = window.inspector.findChild(CommandsEdit, "exec")
    assert startup is not None and startup.toPlainText() == ""
    startup.setFocus()
    qtbot.waitUntil(startup.hasFocus)
    qtbot.keyClicks(startup, "ip route add 10.9.0.0/16 dev eth0")
    qtbot.keyClick(startup, Qt.Key.Key_Return)
    qtbot.keyClicks(startup, "echo a, b; echo c")
    qtbot.keyClick(startup, Qt.Key.Key_Tab)  # leaves the field: the edit is applied
    node = window.doc.topology.node("left")
    assert node.exec == ("ip route add 10.9.0.0/16 dev eth0", "echo a, b; echo c")
    services = window.inspector.findChild(CommandsEdit, "services")
    services.setFocus()
    qtbot.keyClicks(services, "sleep 1000")
    qtbot.keyClick(services, Qt.Key.Key_Tab)
    assert window.doc.topology.node("left").services == ("sleep 1000",)
    assert window.inspector.findChild(CommandsEdit, "exec").toPlainText().splitlines()[1] == (
        "echo a, b; echo c"
    )
    window.doc.undo.undo()
    window.doc.undo.undo()
    assert window.doc.topology.node("left").exec == ()
