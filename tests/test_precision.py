"""The tolerance model per matmul precision, checked on CPU by emulating TF32 and bfloat16 matmuls.

A correct implementation passes when the suite knows the precision it runs at;
a wrong one still fails; and the float32 tolerances are tight enough that a TF32
run which the suite believes exact is noticed.
"""

from __future__ import annotations

import pytest
from conftest import read, run_cli

NUMERIC = (
    "01-forward-matches-construction",
    "01-grad-sums-call-sites",
    "02-forward-matches-construction",
    "03-output-is-twice-nnx",
    "05-forward-matches-recipe",
    "04-block-matches-oracle",
)


def _statuses(tmp_path, *args: str) -> dict[str, str]:
    report = tmp_path / "r.json"
    run_cli("run", "--profile", "dev", "--only", *NUMERIC, "--json", str(report), *args)
    data = read(report)
    return {r["id"]: r["status"] for r in data["results"]}


@pytest.mark.parametrize("precision", ["bfloat16"])  # the coarsest; tf32 is covered by the test below it
def test_a_correct_implementation_passes_at_the_precision_it_runs_at(precision, tmp_path):
    statuses = _statuses(tmp_path, "--emulate-precision", precision, "--precision", precision)
    assert set(statuses) == set(NUMERIC) and set(statuses.values()) == {"passed"}, statuses


@pytest.mark.parametrize(
    "precision, mutant, caught_by",
    [
        ("tf32", "m01_bias_ones", "01-forward-matches-construction"),
        ("bfloat16", "m05_scale_by_in", "05-forward-matches-recipe"),
    ],
)
def test_a_wrong_implementation_still_fails_at_reduced_precision(precision, mutant, caught_by, tmp_path):
    statuses = _statuses(
        tmp_path,
        "--emulate-precision",
        precision,
        "--precision",
        precision,
        "--impl",
        f"conformance.implementations.mutants.{mutant}",
    )
    assert statuses[caught_by] == "failed", statuses


def test_float32_tolerances_notice_an_undeclared_tf32_run(tmp_path):
    statuses = _statuses(tmp_path, "--emulate-precision", "tf32", "--precision", "float32")
    assert sum(s == "failed" for s in statuses.values()) >= len(NUMERIC) - 1, statuses
