"""The run as a CSV grade book: one row per implementation, one column per implementation property, then totals.

A cell holds the verdict's status (``passed``, ``failed``, ``error``, ``timeout``,
``crashed``, ``not_provided``, ``expected_divergence``, ``tampered``); an empty cell is a property that did not run for
that implementation (an interrupted run). The totals count the implementation's
verdicts by status, then ``properties`` (how many it was checked on) and
``outcome`` (passed, failed, cannot load, nothing ran, incomplete, tampered). Framework
properties check Flax, not the implementations: they are in the JSON report and
on the page, not here.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from conformance.engine.outcomes import STATUSES


def gradebook_csv(report: dict[str, Any]) -> str:
    ids = sorted({(r["document"], r["id"]) for r in report["results"] if r["implementation"] is not None})
    cells = {(r["implementation"], r["id"]): r["status"] for r in report["results"]}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["implementation", "target", *(pid for _, pid in ids), *STATUSES, "properties", "outcome"])
    for d in report["implementations"]:
        summary = d.get("summary") or {}
        writer.writerow(
            [
                d["name"],
                d["target"],
                *(cells.get((d["name"], pid), "") for _, pid in ids),
                *(summary.get(s, 0) for s in STATUSES),
                sum(summary.values()),
                d.get("outcome", ""),
            ]
        )
    return out.getvalue()
