"""Document 01's gradient properties meet every big square shape of the pool, though relu's kink rejects inputs.

Where a pre-activation lies within rounding of 0, float32 and float64 may disagree on relu's derivative, so
the gradient properties take no such input. A layer thousands wide has thousands of pre-activations, and most
single draws put one of them there: rejected, the one explicit example a big shape gets per run was lost, and
the property never checked that shape (01-fw-one-instance-one-param-set met neither big square of the ci pool).
"""

from __future__ import annotations

import json

from conftest import run_cli

from conformance.kit import pools

GRADIENT_PROPERTIES = ("01-grad-sums-call-sites", "01-fw-one-instance-one-param-set")


def test_the_gradient_properties_meet_every_big_square_shape(tmp_path):
    pool = pools.current_pool()  # the ci profile's pool (conftest), the one the run below draws
    big = {json.dumps({"shape": list(s)}) for s in pool.square if s in pool.big}
    assert big, "the ci pool has no big square shape: nothing to check"
    report = tmp_path / "report.json"
    # One random example each: what is left to meet the big shapes is their explicit examples.
    proc = run_cli(
        "run", "--profile", "ci", "--max-examples", "1", "--only", *GRADIENT_PROPERTIES, "--json", str(report)
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for result in json.loads(report.read_text())["results"]:
        met = set((result.get("extra") or {}).get("shapes", ()))
        assert big <= met, f"{result['id']} never ran at {sorted(big - met)} (it met {sorted(met)})"
