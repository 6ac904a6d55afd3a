"""Implementations written to fool the judge are reported `tampered` on every property, and exit 1.

Each module in tests/tampering/ is the wrong implementation tests/tampering/wrong_outputs.py (its forward
functions scaled by 1.5) plus one way of hiding it; the message of a tampered verdict says that the property
itself reported `passed`, so each route did hide the wrong outputs from the property. They run as a user runs
them: `conformance run`, two workers, the ci profile (a few examples of three properties, two documents).
With --isolate-calls the implementation runs in a process of its own and the same tampering changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO, read, run_cli

TAMPERING = Path(__file__).resolve().parent / "tampering"
# Two documents, so both workers judge; a framework property, which the implementation does not even call.
ONLY = ("01-forward-matches-construction", "05-forward-matches-recipe", "01-fw-inline-dense-not-shared")
MODULE_PROPERTY = "01-module-matches-oracle"  # needs SharedDense, a class: not called out of process


def _run(impl: str | Path, report_path: Path, *extra: str, only=ONLY, cwd: Path | None = None, env=None):
    args = ["run", "--impl", str(impl), "--profile", "ci", "--max-examples", "3", "--json", str(report_path)]
    if cwd is None:
        return run_cli(*args, "--only", *only, *extra, env=env)
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "conformance", *args, "--only", *only, *extra],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def _statuses(report: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in report["results"]}


def _assert_tampered(proc, report_path: Path, words: list[str]) -> None:
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    report = read(report_path)
    assert _statuses(report) == dict.fromkeys(ONLY, "tampered"), _statuses(report)
    messages = [r["message"] for r in report["results"]]
    assert any("the property itself reported passed" in m for m in messages), (
        "no property reported passed: the route did not hide the wrong outputs, so it proves nothing\n"
        + "\n".join(messages)
    )
    for word in words:
        assert all(word in m for m in messages), f"{word!r} not in every message:\n{messages[0]}"
    assert "tampered" in proc.stdout, "the terminal table does not show the status"


@pytest.mark.parametrize(
    "route, words",
    [
        # the classic: assert_close rebound to a no-op in the property modules that imported it by name
        ("rebinds_helpers.py", ["test_shared_dense.assert_close was rebound to", "rebinds_helpers.py:"]),
        ("patches_numpy.py", ["numpy.abs was rebound to", "numpy.array_equal was rebound to"]),
        # a hookwrapper registered through pytest's plugin manager, outermost, rewriting every verdict
        ("installs_hook.py", ["pytest_runtest_makereport added from", "seal does not hold"]),
        # the in-process check blinded first: the controlling process's digest still differs
        ("patches_checker.py", ["conformance.engine.tamper differs from the judge's own copy"]),
        # --only narrowed in the workers to what it passes: the controlling process misses the other verdicts
        ("narrows_selection.py", ["pytest's options changed", "no verdict arrived for 2 selected properties"]),
    ],
)
def test_tampering_is_reported_on_every_property(route, words, report_path):
    _assert_tampered(_run(TAMPERING / route, report_path), report_path, words)


def test_among_many_implementations_only_the_one_that_tampers_is_tampered(tmp_path):
    # Each implementation is a task with its own controller and tamper checks; no framework property: two tasks.
    only = ONLY[:2]
    report_path, grades = tmp_path / "all.json", tmp_path / "all.csv"
    proc = run_cli(
        *("run", "--impl", str(TAMPERING / "rebinds_helpers.py"), "conformance.implementations.reference"),
        *("--profile", "ci", "--max-examples", "3", "--only", *only),
        *("--json", str(report_path), "--csv", str(grades)),
    )
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    report = read(report_path)
    statuses = {(r["implementation"], r["id"]): r["status"] for r in report["results"]}
    assert statuses == {
        **{("rebinds_helpers", i): "tampered" for i in only},
        **{("reference", i): "passed" for i in only},
    }, statuses
    messages = [r["message"] for r in report["results"] if r["implementation"] == "rebinds_helpers"]
    assert all("the property itself reported passed" in m for m in messages), "the route hid nothing:\n" + messages[0]
    outcomes = {d["name"]: d["outcome"] for d in report["implementations"]}
    assert outcomes == {"rebinds_helpers": "tampered", "reference": "passed"}, outcomes
    assert "1 passed, 1 tampered" in proc.stdout, proc.stdout[-3000:]
    assert ",tampered\n" in grades.read_text(), grades.read_text()


def _suite_copy(root: Path) -> Path:
    """The suite as an installed package would lay it out, in a temporary folder the implementation may edit."""
    package = root / "conformance"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "src" / "conformance", package, ignore=ignore)
    shutil.copytree(REPO / "properties", package / "properties", ignore=ignore)
    shutil.copytree(REPO / "implementations", package / "implementations", ignore=ignore)
    return package


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts):
        h.update(path.read_bytes())
    return h.hexdigest()


def test_editing_the_suites_files_is_reported(tmp_path):
    copy = _suite_copy(tmp_path / "site")
    checkout_before = _tree_digest(REPO / "src")
    proc = _run(
        TAMPERING / "edits_files.py",
        tmp_path / "report.json",
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site"), "CONFORMANCE_TAMPERING_COPY": str(copy)},
    )
    assert read(tmp_path / "report.json")["implementation"]["path"], "the run did not describe the implementation"
    assert "return None" in (copy / "kit" / "assertions.py").read_text(), "the route did not edit the copy"
    assert _tree_digest(REPO / "src") == checkout_before, "the checkout itself was edited"
    _assert_tampered(proc, tmp_path / "report.json", [f"{copy / 'kit' / 'assertions.py'} was written"])


def test_isolated_calls_leave_tampering_nothing_to_change(report_path):
    proc = _run(TAMPERING / "installs_hook.py", report_path, "--isolate-calls", only=(*ONLY, MODULE_PROPERTY))
    assert proc.returncode == 1, proc.stdout[-3000:]
    report = read(report_path)
    assert _statuses(report) == {
        "01-forward-matches-construction": "failed",
        "05-forward-matches-recipe": "failed",
        "01-fw-inline-dense-not-shared": "passed",
        MODULE_PROPERTY: "not_provided",
    }, _statuses(report)
    [module_result] = [r for r in report["results"] if r["id"] == MODULE_PROPERTY]
    assert "--isolate-calls calls only forward functions" in module_result["message"], module_result["message"]


def test_isolated_calls_pass_a_conforming_implementation(report_path):
    proc = _run("conformance.implementations.reference", report_path, "--isolate-calls")
    assert proc.returncode == 0, proc.stdout[-3000:]
    statuses = _statuses(read(report_path))
    assert set(statuses.values()) == {"passed", "expected_divergence"}, statuses
