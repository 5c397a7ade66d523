"""Shared test helpers: example files and small topology builders."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from nstopo.resources import EXAMPLES

sys.path.insert(0, str(Path(__file__).parent))

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture(params=EXAMPLE_FILES, ids=lambda p: p.stem)
def example_file(request: pytest.FixtureRequest) -> Path:
    return request.param
