"""Screenshots of the Checks dock and of a lesson in progress for the README (root;
offscreen; everything is built in a throw-away sandbox that vanishes when the script
ends, and the editor's settings go to a temporary folder).

sudo .venv/bin/python scripts/screenshots_checks.py [OUT_DIR]     (default: docs/screenshots)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="nstopo-shots-")  # not your progress
os.environ["XDG_STATE_HOME"] = os.environ["XDG_CONFIG_HOME"]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helper_process import RunningHelper, helper_in_sandbox
from nstopo.gui.document import Document
from nstopo.gui.mainwindow import MainWindow
from nstopo.resources import EXAMPLES
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication
from qtloop import pump, wait_until


def window_on(helper: RunningHelper, doc: Document | None) -> MainWindow:
    window = MainWindow(doc, str(helper.socket))
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    window.resize(1500, 960)
    window.show()
    wait_until(lambda: window.connection.is_ready)
    return window


def deploy(window: MainWindow) -> None:
    window.live.deploy()
    wait_until(lambda: window.live.running and not window.live.busy)


def checks_shot(helper: RunningHelper, out: Path) -> None:
    """The bridge pitfall's checks, plus one added with the ping tool that fails there."""
    window = window_on(helper, Document.open(EXAMPLES / "bridge-pitfall.yaml"))
    dock = window._docks["Checks"]
    dock.raise_()
    window.resizeDocks([dock], [380], Qt.Orientation.Vertical)
    window.resizeDocks([dock, window._docks["Ping"]], [1100, 400], Qt.Orientation.Horizontal)
    deploy(window)
    panel = window.checks_panel
    panel.add_ping_check("a", "hub")  # the pitfall: hub's address sits on the port
    panel.run_all()
    wait_until(lambda: not panel.runner.busy)
    pump(0.3)
    panel.tree.setCurrentItem(panel.item_of("check:a reaches hub"))
    window.view.fit()
    pump(0.5)
    window.grab().save(str(out / "checks-panel.png"))
    print(f"wrote {out / 'checks-panel.png'}")
    window.live.destroy()
    wait_until(lambda: not window.live.running)
    window.close()


def lesson_shot(helper: RunningHelper, out: Path) -> None:
    """The loopback lesson: stage 1 done by the kernel's own answer, the list unlocked."""
    window = window_on(helper, None)
    panel = window.newcomer.lessons.start("01-loopback")
    assert panel is not None
    window.scene.add_node_at("netns", QPointF(0, 0))
    window.doc.topology.update_node("ns1", loopback="down")  # the Inspector's edit, in short
    window.doc.undo.setClean()
    deploy(window)
    wait_until(lambda: panel.stage_done(0))
    window.view.fit()
    pump(0.5)
    window.grab().save(str(out / "lesson-loopback.png"))
    print(f"wrote {out / 'lesson-loopback.png'}")
    window.live.destroy()
    wait_until(lambda: not window.live.running)
    window.close()


def main(out: Path) -> None:
    QApplication.instance() or QApplication(sys.argv[:1])
    out.mkdir(parents=True, exist_ok=True)
    with helper_in_sandbox("nstopo-shots-") as helper:
        checks_shot(helper, out)
        lesson_shot(helper, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
