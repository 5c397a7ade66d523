"""A newcomer's first lab, played on a real X display: run as a script, it starts the
editor exactly as the `nstopo gui` command does (the console entry point), and a
second thread moves the real mouse and presses real keys with xdotool, so every event
goes through the X server and Qt's xcb platform. It only reads the widgets' places
(on the GUI thread) to know where to click.

The scenario: drag a bridge from the palette and type its address into the inspector,
drag two namespaces, draw two links with Shift+drag, deploy with Ctrl+Return, choose
"Capture on br0" in the bridge's context menu, "Ping from ns1…" in ns1's, click br0,
and wait for br0's ARP and ping replies.
Prints `STEP <what>` as it goes and `PASS` at the end; any failure exits non-zero."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from PySide6.QtCore import QObject, QPoint, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMenu, QWidget


class _OnGuiThread(QObject):
    """Runs a function on the GUI thread and hands its result back to the driver."""

    asked = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.answers: queue.Queue = queue.Queue()
        self.asked.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self.answers.put((True, fn()))
        except Exception as exc:  # handed to the driver thread, which fails with it
            self.answers.put((False, exc))

    def __call__(self, fn: Callable[[], Any]) -> Any:
        self.asked.emit(fn)
        ok, value = self.answers.get(timeout=20)
        if not ok:
            raise value
        return value


def xdo(*args: object) -> None:
    subprocess.run(["xdotool", *map(str, args)], check=True, timeout=20)


def step(text: str) -> None:
    print(f"STEP {text}", flush=True)


class Driver:
    def __init__(self, gui: _OnGuiThread) -> None:
        self.gui = gui

    def wait(self, what: str, test: Callable[[], Any], timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.gui(test)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def window(self) -> Any:
        from nstopo.gui.mainwindow import MainWindow

        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        return found[0] if found and found[0].isVisible() else None

    def at(self, widget: QWidget, point: QPoint) -> tuple[int, int]:
        spot = widget.mapToGlobal(point)
        return spot.x(), spot.y()

    def node_spot(self, name: str) -> tuple[int, int]:
        def where() -> tuple[int, int]:
            w = self.window()
            item = w.scene.nodes[name]
            inside = w.view.mapFromScene(item.sceneBoundingRect().center())
            return self.at(w.view.viewport(), inside)

        return self.gui(where)

    def canvas_spot(self, fx: float, fy: float) -> tuple[int, int]:
        def where() -> tuple[int, int]:
            port = self.window().view.viewport()
            return self.at(port, QPoint(int(port.width() * fx), int(port.height() * fy)))

        return self.gui(where)

    def drag(self, start: tuple[int, int], end: tuple[int, int], shift: bool = False) -> None:
        xdo("mousemove", *start)
        time.sleep(0.2)
        if shift:
            xdo("keydown", "shift")
        xdo("mousedown", 1)
        for i in range(1, 13):  # in steps: Qt starts a drag after some motion
            x = start[0] + (end[0] - start[0]) * i // 12
            y = start[1] + (end[1] - start[1]) * i // 12
            xdo("mousemove", x, y)
            time.sleep(0.05)
        time.sleep(0.2)
        xdo("mouseup", 1)
        if shift:
            xdo("keyup", "shift")
        time.sleep(0.3)

    def drop_from_palette(self, label: str, target: tuple[float, float]) -> str:
        def item_spot() -> tuple[int, int]:
            palette = self.window().palette
            item = palette.findItems(label, Qt.MatchFlag.MatchExactly)[0]
            return self.at(palette.viewport(), palette.visualItemRect(item).center())

        before = set(self.gui(lambda: list(self.window().scene.nodes)))
        self.drag(self.gui(item_spot), self.canvas_spot(*target))
        new = self.wait(
            f"a {label} on the canvas",
            lambda: set(self.window().scene.nodes) - before,
        )
        (name,) = new
        step(f"dropped {label} {name}")
        return name

    def type_into_inspector(self, node: str, field: str, text: str) -> None:
        """Select the node with a click, then type into an inspector field and commit
        it with Return."""
        w = self.window()
        xdo("mousemove", *self.node_spot(node))
        xdo("click", 1)
        self.wait(f"{node} in the inspector", lambda: w.inspector.subject == ("node", node))

        def field_spot() -> tuple[int, int]:
            edit = w.inspector.fields[field]
            return self.at(edit, edit.rect().center())

        xdo("mousemove", *self.gui(field_spot))
        xdo("click", 1)
        xdo("key", "ctrl+a")
        xdo("type", "--delay", 20, text)
        xdo("key", "Return")
        self.wait(
            f"{field} of {node} set",
            lambda: text in str(getattr(w.doc.topology.node(node), field)),
        )
        step(f"typed {field} {text} for {node}")

    def choose(self, node: str, text: str) -> None:
        """Right-click a node and click the menu entry `text`."""
        xdo("mousemove", *self.node_spot(node))
        time.sleep(0.2)
        xdo("click", 3)
        menu = self.wait("the context menu", lambda: isinstance(_popup(), QMenu) and _popup())

        def entry_spot() -> tuple[int, int] | None:
            popup = _popup()
            for action in popup.actions():
                if action.text() == text and action.isEnabled():
                    return self.at(popup, popup.actionGeometry(action).center())
            return None

        spot = self.wait(f"an enabled {text!r} in the menu", entry_spot)
        del menu
        xdo("mousemove", *spot)
        time.sleep(0.2)
        xdo("click", 1)
        self.wait("the menu to close", lambda: _popup() is None)
        step(f"chose {text!r} on {node}")

    def play(self) -> None:
        w = self.wait("the editor window", self.window, timeout=30)
        win_id = self.gui(lambda: int(w.winId()))
        xdo("windowactivate", "--sync", win_id)
        self.wait("the helper", lambda: w.connection.is_ready)
        page = self.wait("the welcome page", lambda: w.newcomer.welcome)
        assert self.gui(page.isVisible), "no welcome page at the first start"
        step("welcome page shown")
        br = self.drop_from_palette("Bridge", (0.5, 0.6))
        self.type_into_inspector(br, "addresses", "10.77.0.1/24")
        ns1 = self.drop_from_palette("Namespace", (0.25, 0.35))
        ns2 = self.drop_from_palette("Namespace", (0.75, 0.35))
        for ns in (ns1, ns2):
            before = self.gui(lambda: len(w.doc.topology.link_ids()))
            self.drag(self.node_spot(ns), self.node_spot(br), shift=True)
            self.wait(f"a link {ns}-{br}", lambda b=before: len(w.doc.topology.link_ids()) > b)
            step(f"linked {ns} to {br}")
        self.wait("a deployable lab", lambda: w.live_panel.deploy_button.isEnabled())
        xdo("mousemove", *self.canvas_spot(0.9, 0.9))
        xdo("click", 1)  # focus the canvas, select nothing
        xdo("key", "ctrl+Return")
        self.wait("the lab running", lambda: w.live.running and not w.live.busy, timeout=60)
        error = self.gui(lambda: w.live.last_error)
        assert error is None, f"deploy failed: {error}"
        step(f"deployed lab {self.gui(lambda: w.doc.topology.name)}")
        self.choose(br, f"Capture on {br}")
        self.wait("the capture running", lambda: bool(w.capture_panel.active))
        self.choose(ns1, f"Ping from {ns1}…")
        xdo("mousemove", *self.node_spot(br))  # the bridge's own address answers
        time.sleep(0.2)
        xdo("click", 1)
        step(f"clicked {br} as the ping's target")
        self.wait(
            "an ARP reply in the capture",
            lambda: any(
                "Reply" in p.summary and p.protocol == "arp" for p in w.capture_panel.model.packets
            ),
        )
        step("capture shows the ARP reply")
        self.wait("a ping reply", lambda: any(r.rtts for r in w.ping_panel.runs.values()))
        step("ping got replies")
        self.gui(lambda: w.live.destroy())  # leave the helper empty; no dialog involved
        self.wait("the lab gone", lambda: not w.live.running and not w.live.busy, timeout=60)
        step("destroyed")


def _popup() -> QWidget | None:
    return QApplication.activePopupWidget()


def main() -> int:
    (entry,) = entry_points(group="console_scripts", name="nstopo")
    nstopo = entry.load()
    failed: list[str] = []

    def drive() -> None:
        while QApplication.instance() is None:
            time.sleep(0.05)
        gui = _OnGuiThread()
        gui.moveToThread(QApplication.instance().thread())
        try:
            Driver(gui).play()
            print("PASS", flush=True)
        except Exception:
            failed.append(traceback.format_exc())
            print(failed[-1], file=sys.stderr, flush=True)
            print(f"the window said: {gui(_what_the_window_says)}", file=sys.stderr, flush=True)
        finally:
            app = QApplication.instance()
            gui(lambda: [w.setWindowModified(False) for w in app.topLevelWidgets()])
            gui(_quit_without_asking)

    threading.Thread(target=drive, daemon=True).start()
    sys.argv = ["nstopo", "gui"]
    code = nstopo()
    return 1 if failed else code


def _what_the_window_says() -> dict[str, str]:
    from nstopo.gui.mainwindow import MainWindow

    for w in QApplication.topLevelWidgets():
        if isinstance(w, MainWindow):
            return {
                "status bar": w.statusBar().currentMessage(),
                "capture": w.capture_panel.status.text(),
                "live": w.live_panel.status.text(),
                "live error": w.live_panel.error.text(),
                "pings": " | ".join(f"{r.title()} {r.lines}" for r in w.ping_panel.runs.values()),
                "lab": w.doc.text(),
                "arp": " | ".join(
                    p.summary for p in w.capture_panel.model.packets if p.protocol == "arp"
                ),
            }
    return {}


def _quit_without_asking() -> None:
    for w in QApplication.topLevelWidgets():
        if hasattr(w, "confirm_discard"):
            w.confirm_discard = lambda: True
    QApplication.instance().quit()


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    sys.exit(main())
