"""Implementations written to fool the judge are reported `tampered` on every property, and exit 1.

Each module in tests/tampering/ is the wrong implementation tests/tampering/wrong_outputs.py (its forward
functions scaled by 1.5) plus one way of hiding it; the message of a tampered verdict says that the property
itself reported `passed`, so each route did hide the wrong outputs from the property. They run as a user runs
them, with the ci profile and a few examples: four routes in one `conformance run` of many implementations
beside the reference (each in a task of its own: the reference still passes), and the two that depend on a
single run's selection or files alone (two workers, three properties of two documents). With --isolate-calls
the implementation runs in a process of its own and the same tampering changes nothing.

A run's cost is mostly its processes starting (JAX, the catalogue, the judge's state), so the routes share runs.
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


# One run of many: each route in a task of its own (a controller and one worker, with every check), beside the
# reference. No framework property: it would run in a task of its own, which loads no implementation.
ROUTES = {
    # the classic: assert_close rebound to a no-op in the property modules that imported it by name
    "rebinds_helpers": ["test_shared_dense.assert_close was rebound to", "rebinds_helpers.py:"],
    "patches_numpy": ["numpy.abs was rebound to", "numpy.array_equal was rebound to"],
    # a hookwrapper registered through pytest's plugin manager, outermost, rewriting every verdict
    "installs_hook": ["pytest_runtest_makereport added from", "seal does not hold"],
    # the in-process check blinded first: the controlling process's digest still differs
    "patches_checker": ["conformance.engine.tamper differs from the judge's own copy"],
}
MANY_ONLY = ONLY[:2]


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """(process, report, grade book) of the routes and the reference in one `conformance run`."""
    out = tmp_path_factory.mktemp("many")
    proc = run_cli(
        *(
            "run",
            "--impl",
            *(str(TAMPERING / f"{route}.py") for route in ROUTES),
            "conformance.implementations.reference",
        ),
        *("--profile", "ci", "--max-examples", "3", "--only", *MANY_ONLY),
        *("--json", str(out / "all.json"), "--csv", str(out / "all.csv")),
    )
    return proc, read(out / "all.json"), (out / "all.csv").read_text()


@pytest.mark.parametrize("route", ROUTES)
def test_tampering_is_reported_on_every_property(route, many):
    _, report, _ = many
    mine = {r["id"]: r for r in report["results"] if r["implementation"] == route}
    assert {i: r["status"] for i, r in mine.items()} == dict.fromkeys(MANY_ONLY, "tampered"), mine
    messages = [r["message"] for r in mine.values()]
    assert any("the property itself reported passed" in m for m in messages), (
        "no property reported passed: the route did not hide the wrong outputs, so it proves nothing\n"
        + "\n".join(messages)
    )
    for word in ROUTES[route]:
        assert all(word in m for m in messages), f"{word!r} not in every message:\n{messages[0]}"


def test_among_many_implementations_only_the_ones_that_tamper_are_tampered(many):
    proc, report, grades = many
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    reference = {r["id"]: r["status"] for r in report["results"] if r["implementation"] == "reference"}
    assert reference == dict.fromkeys(MANY_ONLY, "passed"), reference
    outcomes = {d["name"]: d["outcome"] for d in report["implementations"]}
    assert outcomes == {**dict.fromkeys(ROUTES, "tampered"), "reference": "passed"}, outcomes
    assert "1 passed, 4 tampered" in proc.stdout, proc.stdout[-3000:]
    assert grades.count(",tampered\n") == len(ROUTES), grades


def test_narrowing_the_selection_in_the_workers_is_reported(report_path):
    # --only narrowed in the workers to what it passes: the controlling process misses the other verdicts
    proc = _run(TAMPERING / "narrows_selection.py", report_path)
    _assert_tampered(proc, report_path, ["pytest's options changed", "no verdict arrived for 2 selected properties"])


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


def test_isolated_calls_leave_tampering_nothing_to_change_and_pass_a_conforming_implementation(tmp_path):
    # --isolate-calls reaches every task of a run of many (no framework property: it loads no implementation).
    path = tmp_path / "all.json"
    proc = run_cli(
        *("run", "--impl", str(TAMPERING / "installs_hook.py"), "conformance.implementations.reference"),
        *("--profile", "ci", "--max-examples", "3", "--only", *MANY_ONLY, MODULE_PROPERTY, "--isolate-calls"),
        *("--json", str(path)),
    )
    assert proc.returncode == 1, proc.stdout[-3000:]
    report = read(path)
    statuses = {(r["implementation"], r["id"]): r["status"] for r in report["results"]}
    assert statuses == {
        ("installs_hook", "01-forward-matches-construction"): "failed",
        ("installs_hook", "05-forward-matches-recipe"): "failed",
        ("installs_hook", MODULE_PROPERTY): "not_provided",
        ("reference", "01-forward-matches-construction"): "passed",
        ("reference", "05-forward-matches-recipe"): "passed",
        ("reference", MODULE_PROPERTY): "not_provided",
    }, statuses
    outcomes = {d["name"]: d["outcome"] for d in report["implementations"]}
    assert outcomes == {"installs_hook": "failed", "reference": "passed"}, outcomes
    module_results = [r for r in report["results"] if r["id"] == MODULE_PROPERTY]
    assert all("--isolate-calls calls only forward functions" in r["message"] for r in module_results), module_results
