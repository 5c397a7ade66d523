"""Live-mode responsiveness: a 200-namespace lab deployed from the editor, every
interface watched, while the kernel sends about 1,000 link events a second.

Events come from `ip -n hub -batch -` setting bridge ports down and up at a steady
pace (each toggle makes the kernel report the port, its peer and often the bridge).
Figures:
- event-to-repaint latency: from the helper reading the kernel event (its `time`)
  to the canvas painting the item that shows it (p50/p99/max);
- UI thread blocked: the longest gap of a 5 ms timer beyond its interval, i.e. the
  longest time the UI could not react.

Needs root; everything is built in a throw-away sandbox (tests/sandbox.py).

    sudo .venv/bin/python benchmarks/live.py [EVENTS_PER_SECOND] [SECONDS]   (1000, 10)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from helper_process import helper_in_sandbox
from labs import star
from nstopo.gui.document import Document
from nstopo.gui.items import StateDot
from nstopo.gui.mainwindow import MainWindow
from nstopo.model.layout import auto_layout
from nstopo.model.live import LinkEnd, NodeDevice
from nstopo.model.types import replace
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from qtloop import pump, wait_until

NAMESPACES = 200
TICK_MS = 5


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PaintClock:
    """For each kernel event that changes a state dot on the canvas: the time from the
    helper reading the event to the canvas painting that dot. Events that change
    nothing visible (an interface set down and up again within one frame) need no
    repaint and are not counted."""

    def __init__(self) -> None:
        self.waiting: dict[int, float] = {}  # dot -> its oldest event not yet drawn
        self.changed: dict[int, float] = {}  # dot -> that event, once it changed the dot
        self.latencies: list[float] = []
        self.events = 0
        paint, show_state = StateDot.paint, StateDot.show_state

        def painted(dot, painter, option, widget=None) -> None:
            paint(dot, painter, option, widget)
            since = self.changed.pop(id(dot), None)
            if since is not None:
                self.latencies.append((time.time() - since) * 1000)

        def shown(dot, *args) -> None:
            before = (dot.color, dot.ring)
            show_state(dot, *args)
            since = self.waiting.pop(id(dot), None)
            if since is not None and (dot.color, dot.ring) != before:
                self.changed.setdefault(id(dot), since)

        StateDot.paint = painted  # type: ignore[method-assign]
        StateDot.show_state = shown  # type: ignore[method-assign]

    def event(self, dot: object, at: float) -> None:
        self.events += 1
        self.waiting.setdefault(id(dot), at)


def main(rate: int, seconds: float) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with helper_in_sandbox("nstopo-bench-live-") as helper:
        box = helper.sandbox
        clock = PaintClock()  # before the items exist: PySide binds paint() per item
        topo = star(NAMESPACES, "live-bench")
        for name, position in auto_layout(topo).items():
            topo.set_node(name, replace(topo.node(name), position=position))
        window = MainWindow(Document(topo), str(helper.socket))
        window.ask_unsaved = lambda name: None  # type: ignore[method-assign,assignment,return-value]
        window.resize(1500, 960)
        window.show()
        wait_until(lambda: window.connection.is_ready)
        started = time.perf_counter()
        window.live.deploy()
        wait_until(lambda: window.live.running and not window.live.busy, 120)
        deploy_s = time.perf_counter() - started
        wait_until(lambda: len(window.live.links) >= 2 * NAMESPACES + 1)  # all watched and known
        window.view.fit()
        pump(1.0)

        live, scene = window.live, window.scene

        delivery: list[float] = []  # helper read the kernel event -> editor received it

        arrived = [0]  # link and address events, all of them

        def on_event(method: str, params: object) -> None:
            if method in ("link.changed", "addr.changed"):
                arrived[0] += 1
            if method != "link.changed" or not isinstance(params, dict) or params["resync"]:
                return
            key = (params["namespace"], params["name"])
            delivery.append((time.time() - params["time"]) * 1000)
            owner = live.owners.get(key)
            dot = None
            if isinstance(owner, LinkEnd) and owner.link_id in scene.links:
                dot = scene.links[owner.link_id].dots[owner.end]
            elif isinstance(owner, NodeDevice) and owner.node in scene.nodes:
                dot = scene.nodes[owner.node].device_dot
            if dot is not None:
                clock.event(dot, params["time"])

        window.connection.notification.connect(on_event)
        gaps: list[float] = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append((now - last[0]) * 1000 - TICK_MS)
            last[0] = now

        timer = QTimer()
        timer.setInterval(TICK_MS)
        timer.timeout.connect(tick)

        # About five events per toggle (port and peer: state and carrier; the bridge).
        toggles_per_s = rate / 5
        batch = box.popen("ip", "-n", "hub", "-batch", "-", stdin=subprocess.PIPE, text=True)

        def generate() -> None:
            assert batch.stdin is not None
            i, begin = 0, time.monotonic()
            while time.monotonic() - begin < seconds:
                # Every port down in turn, then every port up: each change stays visible.
                port, state = f"p{i % NAMESPACES}", "down" if (i // NAMESPACES) % 2 == 0 else "up"
                batch.stdin.write(f"link set {port} {state}\n")
                batch.stdin.flush()
                i += 1
                delay = begin + i / toggles_per_s - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            batch.stdin.close()

        generator = threading.Thread(target=generate)
        helper_cpu, editor_cpu = cpu_seconds(helper.pid), cpu_seconds(os.getpid())
        before = arrived[0]
        timer.start()
        last[0] = time.perf_counter()
        began = time.monotonic()
        generator.start()
        while generator.is_alive():
            app.processEvents()
            time.sleep(0.0005)
        pump(1.0)  # the tail of events and repaints
        timer.stop()
        elapsed = time.monotonic() - began
        helper_cpu = (cpu_seconds(helper.pid) - helper_cpu) / elapsed * 100
        editor_cpu = (cpu_seconds(os.getpid()) - editor_cpu) / elapsed * 100
        batch.wait(10)
        received = arrived[0] - before
        lat = sorted(clock.latencies)
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
        print(f"lab: {NAMESPACES} namespaces, {len(live.links)} interfaces watched; "
              f"deployed from the editor in {deploy_s:.2f} s")  # fmt: skip
        print(f"kernel events received (links and addresses): {received} in {elapsed - 1.0:.1f} s "
              f"= {received / (elapsed - 1.0):.0f} events/s")  # fmt: skip
        print(
            f"event-to-repaint latency: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, "
            f"max {lat[-1]:.1f} ms over {len(lat)} repaints (target p99 <= 100 ms)"
        )
        delivery.sort()
        print(
            f"of which helper-to-editor delivery: p50 {delivery[len(delivery) // 2]:.1f} ms, "
            f"p99 {delivery[int(0.99 * len(delivery))]:.1f} ms"
        )
        print(f"CPU during the storm: helper {helper_cpu:.0f}% of a core, editor {editor_cpu:.0f}%")
        print(
            f"UI thread blocked: longest {max(gaps):.1f} ms, p99 "
            f"{statistics.quantiles(gaps, n=100)[98]:.1f} ms (target never > 50 ms)"
        )
        window.live.destroy()
        wait_until(lambda: not window.live.running, 120)
        window.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 1000, float(args[1]) if len(args) > 1 else 10.0)
