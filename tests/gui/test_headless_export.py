"""Pictures: `nstopo export --png/--svg` without a display (a fresh process, no DISPLAY),
and the SVG as another renderer draws it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
from nstopo.gui.document import Document
from nstopo.gui.export import render_png, svg_bytes
from nstopo.gui.scene import EditorScene
from nstopo.resources import EXAMPLES
from PySide6.QtGui import QColor, QImage, QPainter

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


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="needs librsvg2-bin")
@pytest.mark.parametrize("example", ["container-bridge", "bridge-pitfall", "tap-bridge"])
def test_the_svg_looks_like_the_canvas_in_another_renderer(qtbot, tmp_path, example) -> None:
    """librsvg (GNOME's SVG renderer, as browsers and viewers use) draws the exported
    SVG like the canvas's own picture: only text antialiasing may differ."""
    scene = EditorScene(Document.open(EXAMPLES / f"{example}.yaml"))
    canvas = render_png(scene, tmp_path / "canvas.png", scale=1.0)
    (tmp_path / "lab.svg").write_bytes(svg_bytes(scene))
    subprocess.run(["rsvg-convert", "-w", str(canvas.width()), "-h", str(canvas.height()),
                    "-o", str(tmp_path / "rsvg.png"), str(tmp_path / "lab.svg")],
                   check=True)  # fmt: skip
    theirs = pixels(QImage(str(tmp_path / "rsvg.png")))
    ours = pixels(canvas)
    assert theirs.shape == ours.shape
    difference = numpy.abs(ours - theirs).max(axis=2)
    assert difference.mean() < 2.0  # out of 255
    assert (difference > 64).mean() < 0.005  # a few text edges, nothing missing


def pixels(image: QImage) -> numpy.ndarray:
    """RGB values, blended over the canvas's background as a viewer shows them."""
    flat = QImage(image.size(), QImage.Format.Format_RGB32)
    flat.fill(QColor("#f7f8fa"))
    painter = QPainter(flat)
    painter.drawImage(0, 0, image)
    painter.end()
    raw = numpy.frombuffer(flat.constBits(), numpy.uint8, flat.sizeInBytes())
    rows = raw.reshape(flat.height(), flat.bytesPerLine() // 4, 4)
    return rows[:, : flat.width(), :3].astype(int)
