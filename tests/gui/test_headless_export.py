"""`nstopo export --png/--svg` without a display (a fresh process, no DISPLAY)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nstopo.resources import EXAMPLES

NSTOPO = str(Path(sys.executable).parent / "nstopo")


def test_headless_picture_export(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    for kind in ("png", "svg"):
        target = tmp_path / f"lab.{kind}"
        done = subprocess.run(
            [NSTOPO, "export", str(EXAMPLES / "tap-bridge.yaml"), f"--{kind}", str(target)],
            capture_output=True,
            text=True,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        assert target.stat().st_size > 1000
    assert (tmp_path / "lab.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "lab.svg").read_bytes()[:400]
