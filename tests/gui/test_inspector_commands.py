"""The inspector's exec: and services: fields (issue 15): typed with real keys, one
command per line, they become the node's lists; undo restores them."""

from __future__ import annotations

from keys import type_text
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


def test_typed_nat_and_firewall_become_the_nodes_and_are_saved(qtbot, tmp_path) -> None:
    """The container lesson's NAT stage is done in the inspector: nat: as SOURCE [out
    IFACE] items, firewall: as the ruleset's text; a wrong item says how it is written."""
    from nstopo.gui.inspector import QLineEdit

    window = opened(qtbot, "veth-namespaces")
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.scene.select(["left"])
    nat = window.inspector.fields["nat"]
    assert isinstance(nat, QLineEdit) and nat.placeholderText()
    nat.setFocus()
    qtbot.waitUntil(nat.hasFocus)
    qtbot.keyClicks(nat, "10.50.0.0/24 via eth0")
    qtbot.keyClick(nat, Qt.Key.Key_Return)
    assert "SOURCE [out INTERFACE]" in window.inspector.error.text()
    assert window.doc.topology.node("left").nat == ()
    nat = window.inspector.fields["nat"]
    nat.selectAll()
    qtbot.keyClicks(nat, "10.50.0.0/24, 10.60.0.0/24 out eth0")
    qtbot.keyClick(nat, Qt.Key.Key_Return)
    rules = window.doc.topology.node("left").nat
    assert [(r.source, r.out) for r in rules] == [("10.50.0.0/24", None), ("10.60.0.0/24", "eth0")]
    firewall = window.inspector.findChild(CommandsEdit, "firewall")
    firewall.setFocus()
    qtbot.waitUntil(firewall.hasFocus)
    for line in ("table inet filter {", "chain input { type filter hook input priority 0; }", "}"):
        qtbot.keyClicks(firewall, line)
        qtbot.keyClick(firewall, Qt.Key.Key_Return)
    qtbot.keyClick(firewall, Qt.Key.Key_Tab)
    ruleset = window.doc.topology.node("left").firewall
    assert ruleset is not None and ruleset.startswith("table inet filter {\nchain input")
    path = tmp_path / "saved.yaml"
    window.doc.save(path)
    import yaml

    saved = yaml.safe_load(path.read_text())["nodes"]["left"]
    assert saved["nat"][0] in ("10.50.0.0/24", {"from": "10.50.0.0/24"})
    assert saved["nat"][1] == {"from": "10.60.0.0/24", "out": "eth0"}
    assert saved["firewall"] == ruleset


def test_committing_another_field_keeps_the_rulesets_text(qtbot, tmp_path) -> None:
    """A ruleset written on one line in the file is not rewritten (nor made a pending
    change) when another field of the node is committed."""
    path = tmp_path / "fw.yaml"
    path.write_text(
        "nstopo: 1\nname: fw\nnodes:\n"
        "  a: {kind: netns, firewall: 'table inet t { }'}\n"
        "  b: {kind: netns}\nlinks: []\n"
    )
    from nstopo.gui.document import Document
    from test_editor import window_for

    window = window_for(qtbot, Document.open(path))
    window.show()
    qtbot.waitExposed(window)
    window.scene.select(["a"])
    type_text(qtbot, window.inspector.fields["routes"], "10.9.0.0/16 dev lo")
    node = window.doc.topology.node("a")
    assert node.routes and node.firewall == "table inet t { }"
