"""--compilation-cache: a later run loads what an earlier one compiled, and the verdicts stay."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import read, run_cli


def _run(cache: Path, counts: Path, report: Path) -> dict:
    counts.mkdir()
    proc = run_cli(
        "run",
        "--profile",
        "dev",
        "--workers",
        "0",
        "--only",
        "01-module-matches-oracle",
        "--compilation-cache",
        str(cache),
        "--json",
        str(report),
        env={"CONFORMANCE_COMPILE_COUNT_DIR": str(counts)},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [figures] = [json.loads(p.read_text()) for p in counts.glob("*.json")]
    return figures


def test_second_run_loads_the_first_runs_programs(tmp_path):
    cache = tmp_path / "xla"
    first = _run(cache, tmp_path / "c1", tmp_path / "r1.json")
    assert first["compiles"] > 0 and any(cache.iterdir()), f"nothing compiled or cached: {first}"
    second = _run(cache, tmp_path / "c2", tmp_path / "r2.json")
    assert second["cache_hits"] > 0 and second["compiles"] < first["compiles"], (
        f"first run compiled {first['compiles']}; the second loaded {second['cache_hits']} "
        f"and compiled {second['compiles']}"
    )
    assert [r["status"] for r in read(tmp_path / "r2.json")["results"]] == ["passed"]


def test_the_environment_names_the_cache_of_a_run_that_names_none(tmp_path):
    cache = tmp_path / "from-env"
    proc = run_cli(
        "run",
        "--profile",
        "dev",
        "--workers",
        "0",
        "--only",
        "01-module-matches-oracle",
        "--json",
        str(tmp_path / "r.json"),
        env={"CONFORMANCE_COMPILATION_CACHE": str(cache)},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert cache.is_dir() and any(cache.iterdir()), "the run kept nothing in $CONFORMANCE_COMPILATION_CACHE"
