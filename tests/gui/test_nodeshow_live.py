"""A node's routes, rules, neighbours and firewall in the editor (issue 17): opened from
the node's real context menu on the canvas, read from a real sandboxed helper, and
kept current as the kernel changes under it."""

from __future__ import annotations

from helper_process import RunningHelper
from nstopo.gui.nodeshowdialog import NodeShowDialog
from sandbox import needs_root
from shiboken6 import isValid
from test_live import context_menu, deploy, live_window

pytestmark = needs_root
ITEM = "Routes, rules, neighbours, firewall of gw…"


def test_the_node_menu_opens_what_the_kernel_has_and_follows_it(
    qtbot, helper: RunningHelper
) -> None:
    window = live_window(qtbot, helper, "router-firewall")
    assert context_menu(window, "gw")[f"{ITEM} (deploy the lab first)"].isEnabled() is False
    deploy(qtbot, window)
    action = context_menu(window, "gw")[ITEM]
    assert action.isEnabled()
    action.trigger()
    dialog = next(d for d in window.findChildren(NodeShowDialog) if d.node == "gw")
    qtbot.waitUntil(lambda: dialog.reads >= 1, timeout=10000)
    firewall = dialog.texts["firewall"].toPlainText()
    by_hand = helper.sandbox.run("ip", "netns", "exec", "gw", "nft", "list", "ruleset").stdout
    assert firewall == f"# nft list ruleset\n{by_hand}"
    assert "ct state established,related accept" in firewall
    routes = dialog.texts["routes"].toPlainText()
    assert "10.82.0.0/24 dev in0 proto kernel scope link src 10.82.0.1" in routes
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == [
        "Routes", "Rules", "Neighbours", "Firewall"
    ]  # fmt: skip
    # An address added by hand: its link route shows up without a click.
    helper.sandbox.run("ip", "-n", "gw", "addr", "add", "10.82.5.1/24", "dev", "out0")
    qtbot.waitUntil(lambda: "10.82.5.0/24 dev out0" in dialog.texts["routes"].toPlainText(),
                    timeout=10000)  # fmt: skip
    # A neighbour learned from traffic (no link event): the timer reads it.
    helper.sandbox.run("ip", "netns", "exec", "inside", "ping", "-c", "1", "-W", "2", "10.82.1.2")
    qtbot.waitUntil(lambda: "10.82.1.2 dev out0 lladdr" in dialog.texts["neigh"].toPlainText(),
                    timeout=10000)  # fmt: skip
    # Asking again raises the same window.
    context_menu(window, "gw")[ITEM].trigger()
    assert [d for d in window.findChildren(NodeShowDialog) if d.node == "gw"] == [dialog]
    dialog.close()  # closed is gone: no timer goes on asking the helper
    qtbot.waitUntil(lambda: not isValid(dialog), timeout=3000)
    assert not [d for d in window.findChildren(NodeShowDialog) if d.node == "gw"]
    window.close()
