"""The first run (issue 12): the welcome page with the examples and their explanations,
the Help menu, the file dialogs' folder, the layout on a small screen."""

from __future__ import annotations

from pathlib import Path

from keys import type_text
from menus import menu_action, plain, trigger
from nstopo.gui.document import Document
from nstopo.gui.help import FormatDialog, ShortcutsDialog
from nstopo.gui.mainwindow import MainWindow
from nstopo.gui.newcomer import dialog_folder, remember_folder
from nstopo.model.names import fresh_lab_name
from nstopo.resources import EXAMPLES
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox


def new_window(qtbot) -> MainWindow:
    window = MainWindow(Document(), "/nonexistent/helper.sock")
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_the_welcome_page_explains_each_example_and_opens_it(qtbot) -> None:
    window = new_window(qtbot)
    trigger(window, "Help", "Welcome and examples")
    page = window.newcomer.welcome
    assert page is not None and page.isVisible()
    assert page.parent() is window.view  # over the canvas
    names = [page.example_list.item(r).text() for r in range(page.example_list.count())]
    assert names[0].startswith("loopback — A fresh network namespace")
    assert len(names) == len(list(EXAMPLES.glob("*.yaml")))
    row = next(i for i, n in enumerate(names) if n.startswith("bridge-pitfall"))
    rect = page.example_list.visualItemRect(page.example_list.item(row))
    qtbot.mouseClick(page.example_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    shown = page.explanation.toPlainText()
    assert "enslaved to a bridge" in shown  # the file's own header comment
    assert "nstopo ping bridge-pitfall hub a -I p0" in shown and "#" not in shown
    assert "goes to the bridge, not to the IP stack" in shown  # lines flowed together
    qtbot.mouseClick(page.open_example_button, Qt.MouseButton.LeftButton)
    assert window.doc.path == EXAMPLES / "bridge-pitfall.yaml"
    assert not page.isVisible()  # the lab is the thing now


def test_the_welcome_page_steps_aside_for_a_first_node(qtbot) -> None:
    window = new_window(qtbot)
    page = window.newcomer.show_welcome()
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    assert not page.isVisible() and window.doc.path is None
    page = window.newcomer.show_welcome()
    window.palette.add_requested.emit("netns")  # what a double-click on the palette does
    assert not page.isVisible() and "ns1" in window.doc.topology


def test_help_lists_every_shortcut_of_the_menus(qtbot) -> None:
    window = new_window(qtbot)
    trigger(window, "Help", "Keyboard shortcuts")
    dialog = next(d for d in window.findChildren(ShortcutsDialog) if d.isVisible())
    rows = {
        dialog.table.item(r, 1).text(): dialog.table.item(r, 0).text()
        for r in range(dialog.table.rowCount())
    }
    assert rows["Live → Deploy / Apply changes"] == "Ctrl+Return"
    assert rows["Edit → Link tool (or Shift+drag)"] == "L"
    assert rows["Live → Ping tool"] == "P"
    assert rows["Help → Keyboard shortcuts"] == "F1"
    assert "Draw a veth to another node" in rows  # keys of the canvas itself
    dialog.close()


def test_help_shows_the_file_format_and_about(qtbot) -> None:
    window = new_window(qtbot)
    trigger(window, "Help", "The topology file format")
    dialog = next(d for d in window.findChildren(FormatDialog) if d.isVisible())
    text = dialog.text.toPlainText()
    assert text.startswith("The topology file") and "endpoints" in text
    dialog.close()
    trigger(window, "Help", "About nstopo")
    box = next(b for b in window.findChildren(QMessageBox) if b.isVisible())
    assert "nstopo" in box.text() and "GPL" in box.text()
    box.close()


def test_file_dialogs_start_where_the_files_are(qtbot, tmp_path: Path) -> None:
    window = new_window(qtbot)
    settings = window.settings
    assert dialog_folder(settings) == str(Path.home())  # not the working directory
    remember_folder(settings, tmp_path / "labs" / "x.yaml")
    (tmp_path / "labs").mkdir()
    assert dialog_folder(settings) == str(tmp_path / "labs")
    assert dialog_folder(settings, Document.open(EXAMPLES / "loopback.yaml")) == str(EXAMPLES)


def test_a_new_lab_name_avoids_the_running_ones() -> None:
    assert fresh_lab_name(set()) == "lab"
    assert fresh_lab_name({"lab"}) == "lab-2"
    assert fresh_lab_name({"lab", "lab-2", "lab-3"}) == "lab-4"


def test_the_window_starts_on_the_screen_and_a_selection_never_grows_it(qtbot) -> None:
    """The first start was 1,246 px tall and selecting a namespace (startup commands,
    services, firewall) raised the minimum height to 1,039: past a 768 px screen."""
    window = MainWindow(Document.open(EXAMPLES / "container-bridge.yaml"), "/nonexistent")
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    room = QApplication.primaryScreen().availableGeometry()
    assert window.height() <= room.height() and window.width() <= max(room.width(), 1024)
    window.show()
    qtbot.waitExposed(window)
    for selected in (["c1"], ["cbr0"], ["router"]):
        window.scene.select(selected)
        QApplication.processEvents()
        assert window.minimumSizeHint().height() <= 768, selected
        assert window.minimumSizeHint().width() <= 1024, selected


def test_the_window_fits_1024_by_768_with_room_for_the_canvas(qtbot) -> None:
    window = MainWindow(Document.open(EXAMPLES / "bridge-pitfall.yaml"), "/nonexistent")
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.minimumSizeHint().width() <= 1024
    window.resize(1024, 768)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=3000)
    QApplication.processEvents()
    view = window.view
    assert view.width() >= 0.45 * window.width()  # docks do not take half the window
    assert view.height() >= 0.45 * window.height()
    # A long node name does not widen the inspector.
    before = window._docks["Inspector"].width()
    long = "a-namespace-with-a-really-long-name-that-goes-on"
    window.scene.select(["a"])
    field = window.inspector.fields["name"]
    type_text(qtbot, field, long)
    window.scene.select([long])
    QApplication.processEvents()
    assert window._docks["Inspector"].width() <= before + 2
    assert window.inspector.title.toolTip() == f"netns {long}"


def test_inspector_fields_hint_at_their_syntax(qtbot) -> None:
    window = new_window(qtbot)
    window.open_path(EXAMPLES / "container-bridge.yaml")
    window.scene.select(["router"])
    fields = window.inspector.fields
    assert "via" in fields["routes"].toolTip() and "dev" in fields["routes"].toolTip()
    assert fields["sysctls"].placeholderText() == "net.ipv4.ip_forward=1"
    assert "key=value" in fields["sysctls"].toolTip()


def test_a_closed_dock_comes_back_from_view_panels(qtbot) -> None:
    window = new_window(qtbot)
    dock = window._docks["Ping"]
    dock.close()
    assert not dock.isVisible()
    entry = menu_action(window, "View", "Ping")
    assert entry.isCheckable() and not entry.isChecked()
    entry.trigger()
    assert dock.isVisible()
    assert {plain(a.text()) for a in window.newcomer.panels_menu.actions()} >= {
        "Palette", "Inspector", "Live", "Labs", "Ping", "Capture", "Problems",
    }  # fmt: skip


def test_committing_a_field_keeps_the_selection_and_the_focus(qtbot) -> None:
    window = MainWindow(Document.open(EXAMPLES / "veth-namespaces.yaml"), "/nonexistent")
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    (lid,) = window.doc.topology.link_ids()
    window.scene.select([], [lid])
    field = window.inspector.fields["a.addresses"]
    qtbot.waitUntil(field.isVisible)  # on screen, to be clicked
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    field.selectAll()
    qtbot.keyClicks(field, "10.10.0.5/24")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert window.doc.topology.link(lid).endpoints[0].addresses == ("10.10.0.5/24",)
    assert window.scene.selected_names() == ([], [lid])  # still the link
    assert window.inspector.subject == ("link", lid)
    focus = window.focusWidget()
    assert focus is window.inspector.fields["a.addresses"]
    # The next keys go to the field, not to the canvas (P is the ping tool's shortcut).
    qtbot.keyClick(focus, Qt.Key.Key_End)
    qtbot.keyClicks(focus, "p")
    assert not window.tools.ping.isChecked() and focus.text() == "10.10.0.5/24p"


def test_a_tools_hint_leaves_the_status_bar_with_the_tool(qtbot) -> None:
    window = new_window(qtbot)
    trigger(window, "Live", "Ping tool")
    assert window.statusBar().currentMessage().startswith("Ping tool: click the source")
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Escape)
    assert window.statusBar().currentMessage() == ""
    trigger(window, "Live", "Ping tool")
    trigger(window, "Live", "Ping tool")  # off again from the menu
    assert window.statusBar().currentMessage() == ""


def test_an_opened_example_keeps_its_explanation_in_the_app(qtbot, tmp_path: Path) -> None:
    window = new_window(qtbot)
    about = window._docks["About this lab"]
    trigger(window, "Help", "Welcome and examples")
    page = window.newcomer.welcome
    assert page is not None
    names = [page.example_list.item(r).text() for r in range(page.example_list.count())]
    row = next(i for i, n in enumerate(names) if n.startswith("bridge-pitfall"))
    rect = page.example_list.visualItemRect(page.example_list.item(row))
    qtbot.mouseClick(page.example_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseClick(page.open_example_button, Qt.MouseButton.LeftButton)
    assert window.doc.path == EXAMPLES / "bridge-pitfall.yaml"
    qtbot.waitUntil(lambda: about.isVisible() and not about.visibleRegion().isEmpty())
    shown = window.newcomer.about.toPlainText()
    assert "enslaved to a bridge" in shown and "#" not in shown
    # Any file with a leading comment explains itself; one without says how to.
    mine = tmp_path / "mine.yaml"
    mine.write_text("# My lab: two namespaces to try ping on.\nnstopo: 1\nname: mine\n")
    assert window.open_path(mine)
    assert "two namespaces to try ping on" in window.newcomer.about.toPlainText()
    bare = tmp_path / "bare.yaml"
    bare.write_text("nstopo: 1\nname: bare\n")
    assert window.open_path(bare)
    assert "has no explanation" in window.newcomer.about.toPlainText()
    toggle = menu_action(window, "View", "Panels")  # listed with the other docks
    assert "About this lab" in [plain(a.text()) for a in toggle.menu().actions()]
