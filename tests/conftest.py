"""Shared helpers for the harness's own tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FAULTS = Path(__file__).resolve().parent / "faults"


def run_cli(*args: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the `conformance` CLI in a fresh process, as a user would."""
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(autouse=True, scope="session")
def _ci_pool():
    """The ci profile's shape pool in this process, whatever the plugin drew for the test session.

    The conformance plugin is installed as a pytest plugin, so it also configures this session and
    draws a fresh pool (the default profile's); tests that index document 04's cases must not see
    different shapes from one run of the suite's own tests to the next.
    """
    from conformance.kit import pools

    pools.use_pool(pools.CI_POOL_SEED)


@pytest.fixture
def report_path(tmp_path: Path) -> Path:
    return tmp_path / "report.json"


def read(path: Path) -> dict:
    return json.loads(path.read_text())
