"""Fixtures: a real helper in a sandbox (tests/sandbox.py), reached over a temporary
socket (imported by the integration and the live GUI tests' conftest)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helper_process import RunningHelper
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
    base = Path(tempfile.mkdtemp(prefix="nstopo-test-"))
    os.chmod(base, 0o755)  # the socket must be reachable for the unprivileged-peer test
    running = RunningHelper(sandbox, base)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        shutil.rmtree(base, ignore_errors=True)
