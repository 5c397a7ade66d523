"""The layers' dependencies point down only (docs/architecture.md): the model imports
neither Qt nor pyroute2, the backend never imports the GUI (issue 13: `backend/cli.py`
imported `gui.export` and `gui.app`), and no command-line module loads Qt until a
picture or the editor is asked for. Every module of a layer is imported in a fresh
interpreter and what it loaded is read from sys.modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def modules_of_layer(layer: str) -> list[str]:
    return sorted(
        f"nstopo.{layer}.{path.stem}"
        for path in (ROOT / layer).glob("*.py")
        if path.stem != "__init__"
    )


def loaded_by(modules: list[str]) -> set[str]:
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def tops(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize(
    ("layer", "forbidden_tops", "forbidden_layers"),
    [
        ("model", {"PySide6", "shiboken6", "pyroute2"}, {"backend", "gui", "cli"}),
        ("protocol", {"PySide6", "shiboken6", "pyroute2", "pydantic"}, {"model", "gui", "cli"}),
        ("backend", {"PySide6", "shiboken6"}, {"gui", "cli"}),
        ("cli", {"PySide6", "shiboken6"}, {"gui"}),
    ],
)
def test_a_layer_loads_nothing_above_it(
    layer: str, forbidden_tops: set[str], forbidden_layers: set[str]
) -> None:
    modules = modules_of_layer(layer)
    assert len(modules) >= 5, f"no modules found in {layer}/"
    loaded = loaded_by(modules)
    assert set(modules) <= loaded  # the probe really imported them
    assert not tops(loaded) & forbidden_tops, sorted(tops(loaded) & forbidden_tops)
    above = {n for n in loaded if n.startswith("nstopo.") and n.split(".")[1] in forbidden_layers}
    assert not above, sorted(above)


def test_the_probe_sees_qt_where_it_is_loaded() -> None:
    """Not vacuous: the editor's modules do load Qt, and the GUI layer is seen as such."""
    loaded = loaded_by(["nstopo.gui.export"])
    assert "PySide6" in tops(loaded) and "nstopo.gui.export" in loaded
