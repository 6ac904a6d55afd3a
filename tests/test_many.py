"""Many implementations in one command: isolated from each other, faults and all, on this machine or a cluster.

One local run checks a folder and a few modules against document 05 (where the faults
are) with the default worker count and the ci profile; the other tests compare what they
run with it, verdict for verdict:

- the first implementation flips process-wide state (x64, a patched jax.numpy function);
  in one shared process that fails the reference and passes a wrong one (the control: the
  tamper checks report every verdict there `tampered`), each in processes of its own it
  changes neither, and only its own verdicts are `tampered`;
- a crash, a hang and a syntax error among them are reported as such, and the rest complete;
- an implementation writes into a scratch folder of its own, gone after the run;
- the run is one report in four places: the terminal, JSON, CSV and HTML;
- on a Dask cluster of two worker processes (loopback), and as two shards merged, the
  verdicts are the local run's.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import FAULTS, REPO, read, run_cli

from conformance.engine.batch import verdicts
from conformance.engine.registry import discover

REFERENCE = "conformance.implementations.reference"
MUTANT = "conformance.implementations.mutants.m05_bias_ones"
FLIPS = str(FAULTS / "flips_globals.py")
MUTANT_FILE = str(REPO / "implementations" / "mutants" / "m05_bias_ones.py")
DOC05 = [p.id for p in discover().values() if p.document == "05" and p.kind == "implementation"]
FRAMEWORK_ID = "05-fw-param-is-a-variable"
# The ci profile as CI runs it, with few examples: these runs are about isolation and faults.
QUICK = ("--profile", "ci", "--max-examples", "3", "--timeout", "15")


def _run(impls: list[str], only: list[str], *extra: str, env: dict | None = None):
    return run_cli("run", "--impl", *impls, "--only", *only, *QUICK, *extra, env=env, timeout=600)


# A few properties of the local run's, for the runs compared with it.
FEW = ["05-forward-matches-recipe", "05-initial-values-follow-recipe", FRAMEWORK_ID]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A course's submissions: faulty ones, a package, and what a folder holds besides implementations."""
    root = tmp_path_factory.mktemp("submissions")
    for name in ("exits_in_05.py", "hangs.py"):
        shutil.copy(FAULTS / name, root / name)
    shutil.copy(FAULTS / "syntax_error.py", root / "broken.py")
    # A package that writes files when imported, through a module of its own.
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("from .writes import multi_param_forward  # noqa: F401\n")
    shutil.copy(FAULTS / "writes_files.py", root / "pkg" / "writes.py")
    (root / "_helpers.py").write_text("raise RuntimeError('a private module is never imported')\n")
    (root / "README.md").write_text("submissions\n")
    return root


@pytest.fixture(scope="module")
def local(folder, tmp_path_factory):
    """The local run: (process, report, CSV rows, HTML page, where each implementation wrote)."""
    out = tmp_path_factory.mktemp("local")
    log = out / "writes.jsonl"
    proc = _run(
        [FLIPS, REFERENCE, MUTANT, str(folder)],
        [*DOC05, FRAMEWORK_ID],
        *("--json", str(out / "all.json"), "--csv", str(out / "all.csv"), "--html", str(out / "all.html")),
        env={"CONFORMANCE_TEST_WRITES_LOG": str(log)},
    )
    rows = list(csv.DictReader((out / "all.csv").open()))
    writes = [json.loads(line) for line in log.read_text().splitlines()]
    return proc, read(out / "all.json"), rows, (out / "all.html").read_text(), writes


def _by(report: dict) -> dict:
    return {(r["implementation"], r["id"]): r for r in report["results"]}


def test_one_implementation_flipping_globals_changes_no_other_verdict(local):
    _, report, *_ = local
    by = _by(report)
    assert all(by[("reference", i)]["status"] == "passed" for i in DOC05), {
        i: by[("reference", i)]["message"][:300] for i in DOC05 if by[("reference", i)]["status"] != "passed"
    }
    assert by[("m05_bias_ones", "05-initial-values-follow-recipe")]["status"] == "failed"
    assert by[("m05_bias_ones", "05-forward-matches-recipe")]["status"] == "failed"
    flips = next(d for d in report["implementations"] if d["name"] == "flips_globals")
    assert flips["config_changes"]["jax_enable_x64"]["after"] == "True", "the flip happened, in its own processes"
    # Rebinding jax.numpy.ones changes what the oracles use: its own task reports it, and only its own.
    assert all(by[("flips_globals", i)]["status"] == "tampered" for i in DOC05)
    assert "jax.numpy.ones was rebound" in by[("flips_globals", DOC05[0])]["message"]


def test_the_same_implementations_in_one_shared_process_do_change_each_other(tmp_path):
    # The control: without isolation, the flip fails the reference and passes the mutant. The tamper checks see
    # the rebinding, so every verdict of that process is `tampered`, saying what the property itself reported.
    path = tmp_path / "shared.json"
    subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "properties"), "-p", "no:cacheprovider", "-q"]
        + ["--impl", FLIPS, "--impl", REFERENCE, "--impl", MUTANT, "--conformance-json", str(path)]
        + ["--only", "05-bias-dtype-is-float32", "--only", "05-initial-values-follow-recipe"]
        + ["--conformance-profile", "ci", "--max-examples", "3"],
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
    )
    by = _by(read(path))
    assert {r["status"] for r in by.values()} == {"tampered"}, {k: r["status"] for k, r in by.items()}
    assert "the property itself reported failed" in by[("reference", "05-bias-dtype-is-float32")]["message"]
    assert "the property itself reported passed" in by[("m05_bias_ones", "05-initial-values-follow-recipe")]["message"]


def test_a_crash_a_hang_and_a_syntax_error_among_many_are_reported_and_the_rest_complete(local):
    proc, report, *_ = local
    assert proc.returncode == 1 and not report["partial"], proc.stderr[-2000:]
    by = _by(report)
    crashed = [i for i in DOC05 if by[("exits_in_05", i)]["status"] == "crashed"]
    assert crashed == ["05-forward-matches-recipe"], crashed
    assert all(by[("exits_in_05", i)]["status"] == "passed" for i in DOC05 if i not in crashed)
    assert by[("hangs", "05-forward-matches-recipe")]["status"] == "timeout"
    assert all(by[("broken", i)]["status"] == "error" and "broken.py:4" in by[("broken", i)]["message"] for i in DOC05)
    outcomes = {d["name"]: d["outcome"] for d in report["implementations"]}
    assert outcomes == {
        "flips_globals": "tampered",
        "reference": "passed",
        "m05_bias_ones": "failed",
        "broken": "cannot load",
        "exits_in_05": "failed",
        "hangs": "failed",
        "pkg": "passed",
    }, outcomes


def test_an_implementation_writes_into_a_scratch_folder_of_its_own(local, folder):
    *_, writes = local
    assert writes, "the package that writes files was not imported"
    for w in writes:  # its task's controller and worker processes
        assert os.path.commonpath([w["cwd"], w["tmp"]]) not in (str(REPO), str(folder), "/tmp", "/"), w
        assert not os.path.exists(w["cwd"]) and not os.path.exists(w["tmp"]), "a scratch folder outlived the run"
    assert not (REPO / "left_behind.txt").exists(), "an implementation wrote into the run's working directory"
    assert not (folder / "pkg" / "left_behind.txt").exists()


def test_the_run_is_one_table_in_the_terminal_json_csv_and_html(local, folder):
    proc, report, rows, page, _ = local
    assert report["implementation"] is None and len(report["implementations"]) == 7
    framework = [r for r in report["results"] if r["implementation"] is None]
    assert [(r["id"], r["status"]) for r in framework] == [(FRAMEWORK_ID, "passed")], "framework properties run once"
    assert {s["path"].rsplit("/", 1)[-1] for s in report["skipped"]} == {"_helpers.py", "README.md"}
    assert [r["implementation"] for r in rows] == [d["name"] for d in report["implementations"]]
    broken = next(r for r in rows if r["implementation"] == "broken")
    assert broken["05-forward-matches-recipe"] == "error" and broken["outcome"] == "cannot load"
    assert broken["error"] == str(len(DOC05)) and FRAMEWORK_ID not in broken
    for d in report["implementations"]:
        assert f">{d['name']}<small>" in page
    assert "implementations x properties" in proc.stdout and "1 cannot load" in proc.stdout
    assert "skipped (private: the name starts with _ or .): _helpers.py" in proc.stdout


def test_a_dask_cluster_gives_the_local_verdicts(local, tmp_path):
    distributed = pytest.importorskip("distributed")
    path = tmp_path / "cluster.json"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        # The mutant as a file: it travels to the workers with its task.
        proc = _run([REFERENCE, MUTANT_FILE], FEW, "--json", str(path), "--cluster", cluster.scheduler_address)
    assert proc.returncode == 1, proc.stderr[-2000:]
    on_cluster = verdicts(read(path))
    here = verdicts(local[1])
    assert on_cluster == {k: here[k] for k in on_cluster}, "the cluster's verdicts are not the local run's"
    assert len(on_cluster) == 2 * 2 + 1
    mutant = next(d for d in read(path)["implementations"] if d["name"] == "m05_bias_ones")
    assert mutant["path"] == MUTANT_FILE, "the report names the user's file, not the worker's copy"


def test_shards_merged_are_the_local_verdicts(local, tmp_path):
    # One implementation per job keeps this cheap; shards of several split the same way (test_many_units.py).
    parts = []
    for shard in ("1/2", "2/2"):
        parts.append(tmp_path / f"part{shard[0]}.json")
        _run([MUTANT], FEW, "--shard", shard, "--workers", "1", "--json", str(parts[-1]))
    merged = tmp_path / "all.json"
    proc = run_cli("merge", *map(str, parts), "-o", str(merged), "--csv", str(tmp_path / "all.csv"))
    assert proc.returncode == 1, "the merged run failed (the mutant), as one run would: " + proc.stderr[-2000:]
    joined = verdicts(read(merged))
    here = verdicts(local[1])
    assert joined == {k: here[k] for k in joined} and len(joined) == 2 + 1, joined
    shards = [read(p)["run"]["shard"] for p in parts]
    assert shards == ["1/2", "2/2"] and read(merged)["run"]["merged_from"] == [str(p) for p in parts]
    incomplete = run_cli("merge", str(parts[0]))
    assert incomplete.returncode == 2 and "shard 2/2 missing" in incomplete.stderr, incomplete.stderr
