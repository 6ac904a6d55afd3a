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
DOCS_ENV_VAR = "CONFORMANCE_DOCS"
DOCUMENTS_MISSING = (
    f"the five source documents were not found: set ${DOCS_ENV_VAR} to their folder (they sit in shared/docs "
    f"beside or above the checkout)"
)


def documents_dir() -> Path | None:
    """The folder of the five documents: ``$CONFORMANCE_DOCS``, else ``shared/docs`` beside, inside or above the repo."""
    named = os.environ.get(DOCS_ENV_VAR)
    if named:
        return Path(named)  # a named folder that is wrong must fail, not skip
    for base in (REPO, *REPO.parents):
        for candidate in (base / "shared" / "docs", base.parent / "shared" / "docs"):
            if (candidate / "04-cross-layer-sharing-albert.md").is_file():
                return candidate
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say out loud when the section headings were not checked against the documents."""
    if documents_dir() is None:
        terminalreporter.write_line(f"NOTE: section headings not checked: {DOCUMENTS_MISSING}", yellow=True, bold=True)


def run_cli(*args: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the `conformance` CLI in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def git(repo: str | os.PathLike[str], *args: str) -> str:
    """Run git in ``repo`` as a throwaway author; its output, stripped. For tests that build repositories."""
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


# Slowest first, so that two workers finish together: the kill table alone takes about half of
# `make test`, and started last it would run after everything else. Modules whose module-scoped
# fixture is expensive (the kill table, a venv) run on one worker (`make test` uses --dist loadgroup).
_SLOWEST_FIRST = (
    "test_mutation.py",
    "test_wheel_install.py",
    "test_crashes.py",
    "test_many.py",
    "test_hf_albert.py",
    "test_local_builds.py",
    "test_doc04_reading.py",
    "test_doc04_numerics.py",
    "test_precision.py",
    "test_faults.py",
)
_ONE_WORKER = (
    "test_mutation.py",
    "test_wheel_install.py",
    "test_hf_albert.py",
    "test_crashes.py",
    "test_local_builds.py",
    "test_many.py",
)


@pytest.hookimpl(tryfirst=True)  # before xdist's worker turns xdist_group markers into groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(_SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
    for item in items:
        if item.path.name in _ONE_WORKER:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


@pytest.fixture(autouse=True, scope="session")
def _ci_pool():
    """The ci profile's shape pool in this process, whatever the plugin drew for the test session.

    The conformance plugin is installed as a pytest plugin, so it also configures this session and
    draws a fresh pool (the default profile's); tests that index document 04's cases must not see
    different shapes from one run of the suite's own tests to the next.
    """
    from conformance.kit import pools

    pools.use_pool(pools.CI_POOL_SEED)


@pytest.fixture(autouse=True, scope="session")
def _one_compilation_cache(tmp_path_factory):
    """One persistent XLA cache for every run the tests start, on both xdist workers.

    Most of those runs compile the reference's programs again (crashing and hanging copies of it,
    the installed wheel, the kill table's conforming variants); its key is the program itself,
    without source locations, so a program is compiled once per session. Tests about compilation
    or about a cold start name a cache of their own (--compilation-cache), which wins.
    """
    from conformance.engine.defaults import CACHE_ENV_VAR

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's directory, shared by the workers
    os.environ.setdefault(CACHE_ENV_VAR, str(root / "xla-cache"))


@pytest.fixture
def report_path(tmp_path: Path) -> Path:
    return tmp_path / "report.json"


def read(path: Path) -> dict:
    return json.loads(path.read_text())
