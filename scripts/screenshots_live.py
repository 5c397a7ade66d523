"""Screenshots of live mode for the README: the seed's bridge lab deployed from the
editor, with a capture and a ping running (root; offscreen; everything is built in a
throw-away sandbox that vanishes when the script ends).

sudo .venv/bin/python scripts/screenshots_live.py [OUT_DIR]     (default: docs/screenshots)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helper_process import RunningHelper, helper_in_sandbox
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.resources import EXAMPLES
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from qtloop import pump, wait_until


def window_for(helper: RunningHelper, example: str) -> MainWindow:
    window = MainWindow(Document.open(EXAMPLES / f"{example}.yaml"), str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    window.resize(1500, 960)
    window.show()
    # Capture and ping side by side under the canvas.
    window._docks["Capture"].raise_()
    window.resizeDocks([window._docks["Capture"]], [330], Qt.Orientation.Vertical)
    window.resizeDocks(
        [window._docks["Capture"], window._docks["Ping"]], [860, 640], Qt.Orientation.Horizontal
    )
    wait_until(lambda: window.connection.is_ready)
    window.live.deploy()
    wait_until(lambda: window.live.running and not window.live.busy)
    window.view.fit()
    return window


def main(out: Path) -> None:
    QApplication.instance() or QApplication(sys.argv[:1])
    out.mkdir(parents=True, exist_ok=True)
    with helper_in_sandbox("nstopo-shots-") as helper:
        box = helper.sandbox
        # The pitfall: ARP request and reply on the port, only the reply on the bridge.
        window = window_for(helper, "bridge-pitfall")
        window.capture_panel.filter.setText("arp or icmp")
        window.live_control.capture("br0", "p0")
        window.live_control.capture("br0", None)
        wait_until(lambda: len(window.capture_panel.active) == 2)
        window.ping_panel.count.setValue(4)
        window.ping_panel.interval.setValue(400)
        run = window.ping_panel.runs[window.live_control.ping("hub", "a")]
        wait_until(lambda: not run.running)
        window.ping_panel.count.setValue(1)
        window.live_control.ping("hub", "a")
        wait_until(lambda: bool(window.animator.flights))
        pump(0.3)  # the dots halfway along the veth
        window.grab().save(str(out / "live-bridge-pitfall.png"))
        print(f"wrote {out / 'live-bridge-pitfall.png'}")
        window.close()
        # The fix deployed, pinging both ways; one interface set down by hand (drift).
        window = window_for(helper, "bridge-fixed")
        window.capture_panel.filter.setText("icmp or arp")
        window.live_control.capture("a", "eth0")
        wait_until(lambda: len(window.capture_panel.active) == 1)
        window.ping_panel.count.setValue(0)
        window.ping_panel.interval.setValue(200)
        window.live_control.ping("a", "hub")
        window.live_control.ping("hub", "a")
        pump(3.0)
        window.live_control.show_rates(("a", "eth0"))
        window._docks["Rates"].raise_()
        pump(1.5)
        window.capture_panel.stop_all()
        window.ping_panel.stop_selected()
        window.ping_panel.list.setCurrentRow(0)
        window.ping_panel.stop_selected()
        pump(0.5)
        window.grab().save(str(out / "live-bridge-fixed.png"))
        print(f"wrote {out / 'live-bridge-fixed.png'}")
        box.run("ip", "-n", "a", "link", "set", "eth0", "down")
        pump(0.5)
        window.scene.select(["a"])
        pump(0.3)
        window.grab().save(str(out / "live-drift.png"))
        print(f"wrote {out / 'live-drift.png'}")
        # Something nstopo did not make (a namespace and a veth made by hand), then
        # File → Open live system.
        box.run("ip", "netns", "add", "by-hand")
        box.run("ip", "link", "add", "hand0", "type", "veth", "peer", "name", "eth9",
                "netns", "by-hand")  # fmt: skip
        window.live_control.open_live_system()
        wait_until(lambda: "by-hand" in window.doc.topology)
        window.view.fit()
        pump(0.5)
        window.grab().save(str(out / "live-system.png"))
        print(f"wrote {out / 'live-system.png'}")
        window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
