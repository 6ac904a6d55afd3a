"""Installed like any package (a wheel, not editable) and run from another directory, the suite
gives the same verdicts as in the repo, and an empty run never passes.

The wheel is built and installed offline, from the package cache `make setup` filled.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_cli

USERS = Path(__file__).resolve().parent / "users"
UV = Path(sys.executable).parent / "uv"
pytestmark = pytest.mark.skipif(not UV.is_file(), reason="needs uv beside the interpreter (make setup installs it)")


def _uv(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    proc = subprocess.run([str(UV), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, f"uv {' '.join(args[:2])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding the locked dependencies and the suite's wheel; returns its bin/."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a clean copy: the build leaves nothing in the checkout
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", ".conformance", "build", "*.egg-info", "__pycache__", ".hypothesis"
        ),
    )
    _uv("build", "--offline", "--wheel", "--out-dir", str(work / "dist"), str(source))
    [wheel] = (work / "dist").glob("*.whl")
    venv = work / "venv"
    # The lock pins uv itself, which make setup installs with pip, not from uv's cache.
    runtime = work / "requirements.txt"
    runtime.write_text(
        "".join(
            line
            for line in (REPO / "requirements.lock").read_text().splitlines(keepends=True)
            if not line.startswith("uv==")
        )
    )
    _uv("venv", "--offline", "--python", sys.executable, str(venv))
    _uv("pip", "install", "--offline", "--python", str(venv / "bin" / "python"), "-r", str(runtime), str(wheel))
    return venv / "bin"


def _run_installed(bin_dir: Path, cwd: Path, *args: str) -> tuple[int, dict | None, str]:
    report = cwd / "report.json"
    report.unlink(missing_ok=True)
    proc = subprocess.run(
        [str(bin_dir / "conformance"), "run", *args, "--json", str(report)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )
    data = json.loads(report.read_text()) if report.exists() else None
    return proc.returncode, data, proc.stdout[-3000:] + proc.stderr[-3000:]


def _verdicts(report: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in report["results"]}


def test_the_wheel_claims_only_the_projects_own_import_names(installed):
    site = next((installed.parent / "lib").glob("python*/site-packages"))
    top = {p.name for p in site.iterdir() if p.name in ("properties", "implementations", "conformance")}
    assert top == {"conformance"}, f"the wheel installed top-level packages {sorted(top)}"
    assert (site / "conformance" / "properties" / "expectations.toml").is_file(), "expectations.toml is not packaged"


def test_the_installed_suite_has_its_claims_catalogues(installed, tmp_path):
    proc = subprocess.run(
        [str(installed / "conformance"), "claims", "--json"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    repo = run_cli("claims", "--json")
    assert json.loads(proc.stdout) == json.loads(repo.stdout), "the installed catalogues differ from the repo's"


def _installed_run(installed, tmp_path, monkeypatch, user_file: str, *only: str) -> tuple[list[str], int, dict, str]:
    # Where the suite is installed from is the question, not sizes: the smaller pools of earlier releases. The
    # crash tests run the reference's programs with the same profile, pools and example count, and the session's
    # compilation cache holds them for whichever runs second (tests/test_crashes.py).
    monkeypatch.setenv("CONFORMANCE_POOL_SIZES", "small")
    solution = tmp_path / user_file
    shutil.copy(USERS / user_file, solution)
    selection = ["--impl", str(solution), "--profile", "ci", "--max-examples", "5"]
    selection += ["--only", *only] if only else []
    code, report, output = _run_installed(installed, tmp_path, *selection)
    assert report is not None and report["results"], f"the installed run reported nothing (exit {code}):\n{output}"
    return selection, code, report, output


def test_installed_a_conforming_file_passes_the_repos_whole_catalogue(installed, tmp_path, monkeypatch):
    # The verdicts the repo gives a conforming file, read from the repo rather than run a second time: every
    # property of its catalogue, each passed, or an expected divergence where expectations.toml lists one for
    # this Flax. A module, data file or implementation the wheel left out shows as a missing id or an error.
    import flax

    from conformance.engine.expectations import divergence_for
    from conformance.engine.registry import discover

    _, code, report, output = _installed_run(installed, tmp_path, monkeypatch, "conforming_copy.py")
    expected = {pid: "expected_divergence" if divergence_for(pid, flax.__version__) else "passed" for pid in discover()}
    got = _verdicts(report)
    assert set(got) == set(expected), (
        f"the installed catalogue differs from the repo's: missing {sorted(set(expected) - set(got))}, "
        f"extra {sorted(set(got) - set(expected))}"
    )
    wrong = {pid: (status, expected[pid]) for pid, status in got.items() if status != expected[pid]}
    assert not wrong, f"installed verdicts (got, expected): {wrong}\n{output}"
    assert code == 0, output


def test_installed_verdicts_on_a_wrong_file_equal_the_repos(installed, tmp_path, monkeypatch):
    selection, code, report, output = _installed_run(installed, tmp_path, monkeypatch, "forward_times_zero.py", "05-*")
    repo_report = tmp_path / "repo.json"
    # One pool for both runs, so that they differ only in how the suite was installed.
    repo = run_cli("run", *selection, "--json", str(repo_report))
    assert _verdicts(report) == _verdicts(json.loads(repo_report.read_text())), "installed and in-repo verdicts differ"
    assert (code, repo.returncode) == (1, 1), output
    assert _verdicts(report)["05-forward-matches-recipe"] == "failed"


def test_an_empty_selection_exits_2_with_one_line(installed, tmp_path):
    code, _, output = _run_installed(installed, tmp_path, "--kind", "framework", "--only", "05-forward*")
    assert code == 2 and "no property ran" in output, output
    assert "Traceback" not in output
