"""Shared test helpers: example files and small topology builders."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from nstopo.resources import EXAMPLES

sys.path.insert(0, str(Path(__file__).parent))

# The whole run gets its own user state and settings: an editor that outlives its test
# (its autosave timer still running once the test's own folders are restored) wrote
# autosaves into the real ~/.local/state, which the next `nstopo gui` offered to recover.
_HOME = tempfile.mkdtemp(prefix="nstopo-tests-home-")
os.environ["XDG_STATE_HOME"] = str(Path(_HOME) / "state")
os.environ["XDG_CONFIG_HOME"] = str(Path(_HOME) / "config")
atexit.register(shutil.rmtree, _HOME, True)

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture(params=EXAMPLE_FILES, ids=lambda p: p.stem)
def example_file(request: pytest.FixtureRequest) -> Path:
    return request.param
