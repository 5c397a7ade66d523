"""Screenshots of what a newcomer meets, for the README: the welcome page with the
examples (offscreen, no root), and, as root in a throw-away sandbox, the Labs dock
with labs applied from the command line and the ping panel with a working ping, a
ping that cannot leave its namespace, and one repeated from a chosen interface; both
the Labs dock in a 1024x768 window.

sudo .venv/bin/python scripts/screenshots_newcomer.py [OUT_DIR]   (default: docs/screenshots)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The editor's own settings (recent files) of a first run, not this user's.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="nstopo-shots-config-")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.resources import EXAMPLES
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

NSTOPO = str(Path(sys.executable).parent / "nstopo")


def settle(seconds: float = 0.3) -> None:
    from qtloop import pump

    pump(seconds)


def save(window: MainWindow, path: Path) -> None:
    settle()
    window.grab().save(str(path))
    print(f"wrote {path}")


def welcome(out: Path) -> None:
    window = MainWindow(Document(), "/nonexistent/helper.sock")
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    window.resize(1280, 800)
    window.show()
    page = window.newcomer.show_welcome()
    names = [e.name for e in page.examples]
    page.example_list.setCurrentRow(names.index("bridge-pitfall"))
    save(window, out / "welcome.png")
    window.close()


def live(out: Path) -> None:
    from helper_process import helper_in_sandbox
    from qtloop import wait_until

    with helper_in_sandbox("nstopo-shots-") as helper:
        env = {**os.environ, "NSTOPO_SOCKET": str(helper.socket)}
        for example in ("veth-namespaces", "container-bridge"):  # by another hand
            subprocess.run([NSTOPO, "apply", str(EXAMPLES / f"{example}.yaml")], env=env,
                           check=True, capture_output=True)  # fmt: skip
        window = MainWindow(Document.open(EXAMPLES / "bridge-fixed.yaml"), str(helper.socket))
        window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
        window.resize(1024, 768)
        window.show()
        wait_until(lambda: window.connection.is_ready)
        window.live.deploy()
        wait_until(lambda: window.live.running and not window.live.busy)
        labs = window.newcomer.labs
        wait_until(lambda: len(labs.names) == 3)
        labs.select("container-bridge")
        window._docks["Labs"].raise_()
        window.view.fit()
        save(window, out / "labs-dock.png")
        # Pings: one that works (round trips in ms), one with no route out of `a`, and
        # the first repeated from hub's br0 (ping -I).
        panel = window.ping_panel
        window._docks["Ping"].raise_()
        panel.count.setValue(6)
        panel.interval.setValue(200)
        first = panel.runs[window.live_control.ping("hub", "a")]
        window.live_control.ping("a", "10.200.0.1")
        wait_until(lambda: not first.running)
        panel.list.setCurrentRow(0)
        panel.interface.setCurrentText("br0")
        again = panel.runs[panel.again() or ""]
        wait_until(lambda: not again.running and not any(r.running for r in panel.runs.values()))
        panel.list.setCurrentRow(1)
        window.resize(1280, 900)  # the dock alone, big enough to read
        window.resizeDocks([window._docks["Ping"]], [380], Qt.Orientation.Vertical)
        window.resizeDocks([window._docks["Ping"]], [900], Qt.Orientation.Horizontal)
        settle()
        window._docks["Ping"].grab().save(str(out / "ping-panel.png"))
        print(f"wrote {out / 'ping-panel.png'}")
        window.live.destroy()
        wait_until(lambda: not window.live.running)
        window.close()


def main(out: Path) -> None:
    QApplication.instance() or QApplication(sys.argv[:1])
    out.mkdir(parents=True, exist_ok=True)
    welcome(out)
    if os.geteuid() == 0:
        live(out)
    else:
        print("not root: the Labs dock and ping panel shots need a helper (run with sudo)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
