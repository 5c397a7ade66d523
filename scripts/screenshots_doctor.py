"""Screenshots of the doctor and the node window, for the README (root, in a throw-away
sandbox): a lab on a bridge in the (sandbox's) host namespace, Docker's FORWARD policy
planted there, the helper bar saying so and a failed ping showing the finding; then
router-firewall's gw with its routes, rules, neighbours and firewall.

The editor runs inside the sandbox's mount namespace, as a user's editor shares the
helper's /run/netns.

sudo .venv/bin/python scripts/screenshots_doctor.py [OUT_DIR]   (default: docs/screenshots)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="nstopo-shots-config-")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

LAB = """\
# Two containers on a bridge in the host namespace, like docker0.
nstopo: 1
name: docker-lab
nodes:
  host: {kind: host, position: [0, 0]}
  br0: {kind: bridge, addresses: [10.66.0.1/24], position: [240, 0]}
  a: {kind: netns, position: [120, 160]}
  b: {kind: netns, position: [360, 160]}
links:
  - endpoints: [{node: a, interface: eth0, addresses: [10.66.0.2/24]}, "br0:p-a"]
  - endpoints: [{node: b, interface: eth0, addresses: [10.66.0.3/24]}, "br0:p-b"]
"""


def inside(socket: str, out: Path) -> None:
    from nstopo.gui.document import Document
    from nstopo.gui.mainwindow import MainWindow
    from nstopo.gui.nodeshowdialog import NodeShowDialog
    from nstopo.resources import EXAMPLES
    from PySide6.QtWidgets import QApplication
    from qtloop import pump, wait_until

    app = QApplication.instance() or QApplication([])
    path = Path(tempfile.mkdtemp(prefix="nstopo-shots-")) / "docker-lab.yaml"
    path.write_text(LAB)
    window = MainWindow(Document.open(path), socket)
    window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
    window.live_panel.ask_destroy = lambda lab: True  # type: ignore[method-assign]
    window.resize(1280, 800)
    window.show()
    wait_until(lambda: window.connection.is_ready, 10)
    window.live.deploy()
    wait_until(lambda: window.live.running and not window.live.busy, 30)
    subprocess.run(["nft", "add", "table", "ip", "filter"], check=True)
    subprocess.run(["nft", "add chain ip filter FORWARD { type filter hook forward priority 0;"
                    " policy drop; }"], check=True)  # fmt: skip
    bar = window.helper_bar
    assert bar is not None
    bar.run_doctor()
    wait_until(lambda: any(f["check"] == "forward-drop" for f in bar.findings), 10)
    window.ping_panel.count.setValue(2)
    window.ping_panel.interval.setValue(200)
    run = window.ping_panel.runs[window.live_control.ping("a", "b")]
    wait_until(lambda: run.diagnosis is not None, 20)
    pump(0.5)
    window.grab().save(str(out / "doctor.png"))
    print(f"wrote {out / 'doctor.png'}")
    dialog = bar.show_doctor()
    dialog.resize(760, 420)
    pump(0.3)
    dialog.grab().save(str(out / "doctor-findings.png"))
    print(f"wrote {out / 'doctor-findings.png'}")
    dialog.close()
    window.live.destroy()
    wait_until(lambda: not window.live.running, 20)
    subprocess.run(["nft", "delete", "table", "ip", "filter"], check=True)
    window.open_path(EXAMPLES / "router-firewall.yaml")
    wait_until(lambda: window.connection.is_ready, 10)
    window.live.deploy()
    wait_until(lambda: window.live.running and not window.live.busy, 30)
    subprocess.run(["ip", "netns", "exec", "inside", "ping", "-c", "1", "10.82.1.2"],
                   capture_output=True)  # fmt: skip
    shown = window.live_control.show_kernel("gw")
    assert isinstance(shown, NodeShowDialog)
    wait_until(lambda: shown.reads >= 1, 10)
    shown.tabs.setCurrentIndex(3)  # the firewall
    shown.resize(760, 420)
    pump(0.3)
    shown.grab().save(str(out / "node-show.png"))
    print(f"wrote {out / 'node-show.png'}")
    shown.close()
    window.live.destroy()
    wait_until(lambda: not window.live.running, 20)
    window.close()
    app.quit()


def main() -> None:
    if sys.argv[1:2] == ["--inside"]:
        inside(sys.argv[2], Path(sys.argv[3]))
        return
    from helper_process import helper_in_sandbox

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with helper_in_sandbox("nstopo-shots-") as helper:
        argv = [sys.executable, __file__, "--inside", str(helper.socket), str(out)]
        subprocess.run(helper.sandbox.command(*argv), check=True, timeout=300)


if __name__ == "__main__":
    main()
