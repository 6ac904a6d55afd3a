"""One release's column of the matrix: the verdicts reported, and a verdict for every property not reported."""

from __future__ import annotations

from typing import Any

from conformance.engine.changes import column_names
from conformance.engine.outcomes import BAD, CRASHED, ERROR, STATUSES, TIMEOUT
from conformance.engine.runner import EXIT_FAILED, EXIT_OK

from .execution import Expected, collection_errors, failure_line


def _result(r: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": r["id"],
        "title": r.get("title", ""),
        "status": r["status"],
        "message": r.get("message") or "",
        "kind": r.get("kind", ""),
        "document": r.get("document", ""),
        "inputs": r.get("inputs"),
    }
    diverged = (r.get("extra") or {}).get("diverged_as")
    if diverged:  # a known divergence, and how it showed: failed or error
        out["diverged_as"] = diverged
    return out


def release_results(
    expected: list[Expected], report: dict[str, Any] | None, rc: int | None, output: str, timeout: float
) -> list[dict[str, Any]]:
    """The report's results, plus a verdict for every expected property the run did not report."""
    got = [_result(r) for r in (report or {}).get("results", [])]
    seen = {r["id"] for r in got}
    errors = collection_errors(output)
    tail = failure_line(output)
    for e in expected:
        if e.id in seen:
            continue
        stem = e.module.rsplit(".", 1)[-1]
        where = e.module.replace(".", "/") + ".py"
        # Run-level messages name no property, so that the reports show them once.
        if rc is None:
            status, message = TIMEOUT, f"not reached: the release's run exceeded --release-timeout {timeout:g} s"
        elif stem in errors:
            status, message = ERROR, f"{where} cannot be collected on this release: {errors[stem]}"
        elif rc < 0:
            status, message = CRASHED, f"not reached: pytest died with signal {-rc}"
        else:
            status, message = ERROR, f"not reported: pytest exited with code {rc}: {tail}"
        got.append(
            {
                "id": e.id,
                "title": e.title,
                "status": status,
                "message": message,
                "kind": e.kind,
                "document": e.document,
                "inputs": None,
            }
        )
    order = {e.id: i for i, e in enumerate(expected)}
    got.sort(key=lambda r: (order.get(r["id"], len(order)), r["document"], r["id"]))
    return got


def summarize(results: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def regressions(matrix: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(column name, result) for every verdict not covered by expectations."""
    return [
        (name, r)
        for name, v in zip(column_names(matrix), matrix["versions"], strict=True)
        for r in v["results"]
        if r["status"] in BAD
    ]


def exit_code(matrix: dict[str, Any]) -> int:
    return EXIT_FAILED if regressions(matrix) else EXIT_OK
