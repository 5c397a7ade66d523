"""Fixtures: a real helper in a sandbox (tests/sandbox.py), reached over a temporary
socket (imported by the integration and the live GUI tests' conftest)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helper_process import RunningHelper, helper_in
from sandbox import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox()
    try:
        yield box
    finally:
        box.close()


@pytest.fixture
def helper(sandbox: Sandbox) -> Iterator[RunningHelper]:
    with helper_in(sandbox, "nstopo-test-") as running:
        yield running
