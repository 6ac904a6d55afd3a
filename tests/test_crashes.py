"""Every run ends, with a verdict for every property, whatever the implementation does to its worker.

Crashes (os._exit, a segfault) in the middle of a document's group: over the whole
catalogue with the default worker count, as users run it; over three documents, a segfault,
and exits with 1 and 3 workers (the replacement worker must go on to the groups after the
crash, and with more workers than documents some sit idle); an implementation that allocates
without bound; and a run stopped at its deadline.
"""

from __future__ import annotations

import os

import pytest
from conftest import FAULTS, read, run_cli

from conformance.engine.registry import discover

ALL = set(discover())
# The document-03 properties that call shared_params_two_modules: each kills its worker.
CRASHING = {p.id for p in discover().values() if "shared_params_two_modules" in p.needs}


@pytest.fixture(scope="module")
def xla_cache(tmp_path_factory):
    """The session's compilation cache (conftest), which the installed wheel's run of a conforming file fills
    with the same programs (tests/test_wheel_install.py: same profile, pools and example count); one of the
    module's own otherwise, as the runs below compile the same programs."""
    from conformance.engine.defaults import CACHE_ENV_VAR

    return os.environ.get(CACHE_ENV_VAR) or tmp_path_factory.mktemp("xla-cache")


def _run(report_path, xla_cache, *args: str):
    # The ci profile users run in CI, with fewer examples and the earlier, smaller pools: these tests are
    # about every run ending with every verdict, not about finding defects or reaching sizes (test_pools.py
    # and the kill table run the real pools). The real pools' big shapes would take most of the time.
    proc = run_cli(
        "run",
        "--profile",
        "ci",
        "--max-examples",
        "5",
        "--timeout",
        "60",
        "--compilation-cache",
        str(xla_cache),
        "--json",
        str(report_path),
        *args,
        timeout=900,
        env={"CONFORMANCE_POOL_SIZES": "small"},
    )
    report = read(report_path)
    return proc, report, {r["id"]: r for r in report["results"]}


# Documents 02 and 04 are most of the catalogue's time, and add nothing to what 1 or 3 workers test, nor to how
# the worker dies (os._exit or a segfault): the whole catalogue runs once, with an exit and the default workers.
THREE_DOCUMENTS = ("01-*", "03-*", "05-*")


@pytest.mark.parametrize(
    "fault, workers, whole",
    [
        ("exits_in_03.py", None, True),
        ("segfaults_in_03.py", None, False),
        ("exits_in_03.py", "1", False),
        ("exits_in_03.py", "3", False),
    ],
)
def test_a_crash_mid_group_leaves_every_other_property_its_verdict(fault, workers, whole, report_path, xla_cache):
    # None: the default worker count.
    extra = (["--workers", workers] if workers else []) + ([] if whole else ["--only", *THREE_DOCUMENTS])
    expected = ALL if whole else {i for i in ALL if i.startswith(tuple(d.rstrip("*") for d in THREE_DOCUMENTS))}
    proc, report, results = _run(report_path, xla_cache, "--impl", str(FAULTS / fault), *extra)
    assert proc.returncode == 1 and not report["partial"], (proc.returncode, proc.stderr[-2000:])
    assert set(results) == expected, f"no verdict for {sorted(expected - set(results))}"
    crashed = {i for i, r in results.items() if r["status"] == "crashed"}
    assert crashed == CRASHING, f"crashed {sorted(crashed)}, expected {sorted(CRASHING)}"
    wrong = {
        i: (r["status"], r["message"][:300])
        for i, r in results.items()
        if i not in CRASHING and r["status"] not in ("passed", "expected_divergence")
    }
    assert not wrong, f"other properties did not pass: {wrong}"


def test_an_implementation_out_of_memory_is_crashed_and_the_run_goes_on(report_path, xla_cache):
    proc, report, results = _run(
        report_path,
        xla_cache,
        "--impl",
        str(FAULTS / "hoards_memory.py"),
        "--max-memory",
        "512",
        "--only",
        "05-*",
        "01-*",
    )
    assert not report["partial"] and proc.returncode == 1, proc.stderr[-2000:]
    oom = [i for i, r in results.items() if r["status"] == "crashed"]
    assert oom and all("out of memory" in results[i]["message"] for i in oom), {i: results[i]["message"] for i in oom}
    assert all("multi_param_forward" in discover()[i].needs for i in oom), oom
    assert {r["status"] for i, r in results.items() if i not in oom} <= {"passed", "expected_divergence"}


def test_a_run_past_its_deadline_ends_with_every_property_reported(report_path, tmp_path):
    # A cold cache of its own: programs loaded from the shared one could let the run beat its deadline.
    proc, report, results = _run(report_path, tmp_path / "xla-cache", "--deadline", "8")
    assert proc.returncode == 1 and not report["partial"], proc.stderr[-2000:]
    assert set(results) == ALL, f"no verdict for {sorted(ALL - set(results))}"
    stopped = [r for r in results.values() if r["status"] == "timeout"]
    assert stopped and all("stopped at its deadline" in r["message"] for r in stopped)
