"""The editor on a real X server (Xvfb, Qt's xcb platform, a window manager), not
offscreen: `nstopo gui` starts as the README says, and a newcomer's first lab is drawn,
deployed, captured and pinged with real mouse and key events (xdotool). These would
have caught a missing xcb library and context-menu actions that fail when clicked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helper_process import RunningHelper
from sandbox import needs_root

NSTOPO = str(Path(sys.executable).parent / "nstopo")
DRIVER = str(Path(__file__).parent / "x11_driver.py")
pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("Xvfb", "xdotool", "openbox")),
    reason="needs Xvfb, xdotool and openbox (scripts/test installs them as root)",
)


class Display:
    def __init__(self, number: str, home: Path) -> None:
        self.name, self.home = f":{number}", home

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env.update(DISPLAY=self.name, QT_QPA_PLATFORM="xcb", HOME=str(self.home))
        env.update(XDG_CONFIG_HOME=str(self.home / "config"))
        env.update(XDG_STATE_HOME=str(self.home / "state"))
        env.update(XDG_RUNTIME_DIR=str(self.home / "run"))
        env.update(extra)
        return env

    def windows(self, title: str) -> list[str]:
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", title],
            env=self.env(), capture_output=True, text=True,
        )  # fmt: skip
        return found.stdout.split()


@pytest.fixture
def display(tmp_path: Path) -> Iterator[Display]:
    """A fresh X server on a free display number, with openbox managing windows."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True)
    (home / "run").chmod(0o700)
    shown = Display(number, home)
    wm = subprocess.Popen(
        ["openbox"], env=shown.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert number, "Xvfb did not start"
        yield shown
    finally:
        for proc in (wm, xvfb):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_nstopo_gui_starts_on_a_real_display_and_quits_with_ctrl_q(display: Display) -> None:
    example = Path(__file__).parents[2] / "resources/examples/bridge-pitfall.yaml"
    gui = subprocess.Popen(
        [NSTOPO, "gui", str(example)],
        env=display.env(NSTOPO_SOCKET=str(display.home / "no-helper.sock")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not display.windows("bridge-pitfall.yaml — nstopo"):
            assert gui.poll() is None, f"nstopo gui exited: {gui.communicate()[1]}"
            assert time.monotonic() < deadline, "no editor window in 30 s"
            time.sleep(0.2)
        (window,) = display.windows("bridge-pitfall.yaml — nstopo")
        env = display.env()
        subprocess.run(["xdotool", "windowactivate", "--sync", window], env=env, check=True)
        subprocess.run(["xdotool", "key", "ctrl+q"], env=env, check=True)
        _, err = gui.communicate(timeout=20)
    finally:
        if gui.poll() is None:
            gui.kill()
            gui.communicate()
    assert gui.returncode == 0, err
    assert "Traceback" not in err and "Could not load the Qt platform plugin" not in err, err


@needs_root
def test_a_first_lab_drawn_deployed_and_captured_with_real_mouse_and_keys(
    display: Display, helper: RunningHelper
) -> None:
    done = subprocess.run(
        [sys.executable, DRIVER],
        env=display.env(NSTOPO_SOCKET=str(helper.socket)),
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    steps = [line for line in done.stdout.splitlines() if line.startswith("STEP")]
    assert done.returncode == 0 and "PASS" in done.stdout, (
        f"{done.stdout}\n--- stderr\n{done.stderr}"
    )
    assert "STEP capture shows the ARP reply" in steps
    assert "Traceback" not in done.stderr, done.stderr
    assert helper.facts()["namespaces"] == []  # destroyed at the end
