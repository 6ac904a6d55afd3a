"""One report from many parts: the tasks of a run, or the JSON reports of a sharded CI matrix.

The report of a run of several implementations has the single-implementation
report's keys, so that whatever reads one reads the other:

- ``implementation``: the implementation's description when there is exactly one, else null;
- ``implementations``: every implementation, each with ``name`` (its key in ``results``),
  ``target``, ``path``, ``provides``, ``config_changes``, ``load_error`` (null, or why it
  could not be imported), ``complete`` (false when an interrupt left properties unreported),
  ``summary`` (verdicts of its properties by status) and ``outcome`` (:data:`OUTCOMES`; ``tampered``,
  before ``failed``, when a verdict of its task is: none of them can be trusted);
- ``framework``: the framework properties' ``summary`` (they run once, whatever the implementations);
- ``results``: every verdict, each with ``implementation`` (a name above, or null for a framework
  property), as in a single run;
- ``summary``: verdicts by status over all results; ``run``: what was selected (``only``,
  ``kind``, ``max_examples``, ``shard``) and ``skipped``: the ``--impl`` folder entries left out;
- ``versions``, ``profile``, ``pool_seed``, ``precision``, ``partial``, ``seconds`` as in a single run.
"""

from __future__ import annotations

from typing import Any

from conformance.engine.batch.targets import Target
from conformance.engine.batch.task import Outcome, Task
from conformance.engine.outcomes import BAD, ERROR, NOT_PROVIDED, STATUSES, TAMPERED
from conformance.engine.registry import Property

PASSED_ALL, FAILED_SOME, CANNOT_LOAD, NOTHING_RAN, INCOMPLETE, TAMPERED_RUN = (
    "passed",
    "failed",
    "cannot load",
    "nothing ran",
    "incomplete",
    "tampered",
)
OUTCOMES = (PASSED_ALL, FAILED_SOME, CANNOT_LOAD, NOTHING_RAN, INCOMPLETE, TAMPERED_RUN)
# Keys two parts must agree on to be one run.
_SAME_RUN = ("versions", "profile", "pool_seed", "precision")


class MergeError(Exception):
    """Parts that are not one run; the message is one line."""


def _counts(results: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def _describe(outcome: Outcome) -> dict[str, Any]:
    target = outcome.task.target
    assert target is not None, "only an implementation's task describes an implementation"
    own = dict((outcome.report or {}).get("implementation") or {})
    path = own.get("path")
    if outcome.spec and path:  # shipped to a cluster worker: the user's file, not the worker's copy
        path = target.spec
    return {
        **own,
        "name": target.name,
        "target": target.spec,
        "path": path,
        "provides": own.get("provides", []),
        "config_changes": own.get("config_changes", {}),
        "load_error": outcome.load_error,
    }


def _missing_verdict(prop: Property, implementation: str | None, status: str, why: str) -> dict[str, Any]:
    return {
        "id": prop.id,
        "document": prop.document,
        "kind": prop.kind,
        "title": prop.title,
        "status": status,
        "examples": 0,
        "seconds": 0.0,
        "message": f"[{prop.id}] {why}",
        "implementation": implementation,
        "inputs": None,
        "reproduce": None,
        "impl_seconds": 0.0,
    }


def _task_results(outcome: Outcome, props: dict[str, Property], interrupted: bool) -> tuple[list[dict[str, Any]], bool]:
    """The task's verdicts of what it selected, under the run's names, plus one for each property it left
    without; and partial.

    Properties left without a verdict by an interrupt stay without one: the report is partial.
    """
    task, report = outcome.task, outcome.report or {}
    name = task.target.name if task.target is not None else None
    results = []
    for r in report.get("results", []):
        if r["id"] not in task.ids:  # not selected: code in the task changed its selection (its checks say so)
            continue
        r = {**r, "implementation": name}
        if outcome.spec and task.target is not None:  # shipped: name the user's file, not the worker's copy
            for key in ("message", "reproduce"):
                if r.get(key):
                    r[key] = r[key].replace(outcome.spec, task.target.spec)
        results.append(r)
    seen = {r["id"] for r in results}
    missing = [props[i] for i in task.ids if i not in seen]
    if outcome.load_error:
        results += [
            _missing_verdict(p, name, ERROR, f"cannot load implementation: {outcome.load_error}") for p in missing
        ]
    elif outcome.interrupted:  # stopped by the run's interrupt: what it did not report stays unreported
        return results, True
    elif outcome.problem:
        results += [_missing_verdict(p, name, outcome.problem_status, outcome.problem) for p in missing]
    elif not interrupted:
        why = "the task ended without a verdict for this property"
        results += [_missing_verdict(p, name, ERROR, why) for p in missing]
    if outcome.judge_edited:
        results = [_judged_by_edited_files(r, outcome.judge_edited) for r in results]
    return results, interrupted and (bool(missing) or bool(report.get("partial")))


def _judged_by_edited_files(result: dict[str, Any], findings: tuple[str, ...]) -> dict[str, Any]:
    """``tampered``: the task ran, or began, after the suite's files were edited, so it may have run the edit.

    Its own controller would not notice an edit made before it started (it hashes the files it finds);
    the run, which hashed them before any task began, does.
    """
    if result["status"] == TAMPERED:
        return result
    from conformance.engine.plugin.tamper_guard import tampered_message

    seen = [*findings, "(seen by the run: this task ended after the suite's files changed on disk)"]
    return {
        **result,
        "status": TAMPERED,
        "message": tampered_message(result["id"], [], seen, result["status"]),
        "extra": {**(result.get("extra") or {}), "reported": result["status"]},
    }


def _header(reports: list[dict[str, Any]], where: list[str]) -> dict[str, Any]:
    """The keys every part shares; parts that disagree on one are not one run."""
    if not reports:
        from conformance.engine.versions import installed_versions

        return {"versions": installed_versions(), "profile": None, "pool_seed": None, "precision": {}}
    first = reports[0]
    for report, name in zip(reports[1:], where[1:]):
        for key in _SAME_RUN:
            if report.get(key) != first.get(key):
                raise MergeError(
                    f"{where[0]} and {name} are not parts of one run: their {key} differ "
                    f"({first.get(key)!r} and {report.get(key)!r})"
                )
    return {key: first.get(key) for key in _SAME_RUN}


def combine(
    tasks: list[Task],
    outcomes: list[Outcome],
    props: dict[str, Property],
    *,
    targets: list[Target],
    run: dict[str, Any],
    skipped: list[dict[str, str]] = (),
    seconds: float = 0.0,
    interrupted: bool = False,
) -> dict[str, Any]:
    """The run's report from its tasks' outcomes (in any order); a task with none was never run (interrupted)."""
    by_key = {o.task.key: o for o in outcomes}
    reports = [o.report for o in outcomes if o.report]
    header = _header(reports, [o.task.key for o in outcomes if o.report])
    results: list[dict[str, Any]] = []
    described = {}
    partial = False
    for task in tasks:
        outcome = by_key.get(task.key) or Outcome(task, problem=None if interrupted else "the task never ran")
        found, incomplete = _task_results(outcome, props, interrupted)
        results += found
        partial = partial or incomplete
        if task.target is not None:
            described[task.target.name] = {**_describe(outcome), "complete": not incomplete}
    # Every implementation is listed, even with no task (no implementation property was selected).
    listed = [
        described.get(t.name)
        or {"name": t.name, "target": t.spec, "path": None, "provides": [], "config_changes": {}, "load_error": None}
        for t in targets
    ]
    report = {
        **header,
        "run": run,
        "skipped": list(skipped),
        "implementations": listed,
        "results": results,
        "partial": partial,
        "seconds": round(seconds, 3),
    }
    return finish(report)


def finish(report: dict[str, Any]) -> dict[str, Any]:
    """Summaries per implementation, for the framework and overall; ``implementation`` when there is one."""
    by_impl: dict[str | None, list[dict[str, Any]]] = {}
    for r in report["results"]:
        by_impl.setdefault(r["implementation"], []).append(r)
    for d in report["implementations"]:
        mine = by_impl.get(d["name"], [])
        d["summary"] = _counts(mine)
        d["outcome"] = _outcome(d, mine, report["partial"])
    framework = by_impl.get(None, [])
    one = report["implementations"][0] if len(report["implementations"]) == 1 else None
    return {
        "implementation": one,
        **{k: v for k, v in report.items() if k != "implementation"},
        "framework": {"summary": _counts(framework), "ok": not any(r["status"] in BAD for r in framework)},
        "summary": _counts(report["results"]),
    }


def _outcome(description: dict[str, Any], results: list[dict[str, Any]], partial: bool) -> str:
    if description.get("load_error"):
        return CANNOT_LOAD
    if any(r["status"] == TAMPERED for r in results):  # before failed: none of its verdicts can be trusted
        return TAMPERED_RUN
    if any(r["status"] in BAD for r in results):
        return FAILED_SOME
    if (partial and not results) or description.get("complete") is False:
        return INCOMPLETE
    if not results:
        return NOTHING_RAN
    if all(r["status"] == NOT_PROVIDED for r in results):
        return NOTHING_RAN
    return PASSED_ALL


def verdicts(report: dict[str, Any]) -> dict[tuple[str | None, str], str]:
    """(implementation, property id) -> status: what two runs must share to be the same run."""
    return {(r["implementation"], r["id"]): r["status"] for r in report["results"]}


def _check_parts(runs: list[dict[str, Any]], names: list[str]) -> None:
    """Parts of a sharded run: the same selection, and every shard exactly once."""

    def selection(run: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in run.items() if k not in ("shard", "merged_from")}

    for run, name in zip(runs[1:], names[1:]):
        if selection(run) != selection(runs[0]):
            raise MergeError(
                f"{names[0]} and {name} selected different properties: {selection(runs[0])} and {selection(run)}"
            )
    shards = [run.get("shard") for run in runs]
    if not any(shards):
        return
    if not all(shards):
        raise MergeError("some reports are shards of a run and some are not: merge the shards of one run")
    counts = {s.split("/")[1] for s in shards}
    if len(counts) > 1:
        raise MergeError(f"the shards come from different splits: {', '.join(sorted(set(shards)))}")
    n = int(counts.pop())
    seen = [int(s.split("/")[0]) for s in shards]
    twice = sorted({i for i in seen if seen.count(i) > 1})
    if twice:
        raise MergeError(f"shard {twice[0]}/{n} is given twice")
    missing = sorted(set(range(1, n + 1)) - set(seen))
    if missing:
        raise MergeError(f"shard {', '.join(f'{i}/{n}' for i in missing)} missing: give every part of the run")


def merge_reports(parts: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One report from the JSON reports of one run's parts (``conformance merge``), named for messages."""
    names = [name for name, _ in parts]
    reports = [report for _, report in parts]
    header = _header(reports, names)
    runs = [report.get("run") or {} for report in reports]
    _check_parts(runs, names)
    described: dict[str, dict[str, Any]] = {}
    results: dict[tuple[str | None, str], dict[str, Any]] = {}
    where: dict[tuple[str | None, str], str] = {}
    for name, report in parts:
        for d in report.get("implementations") or []:
            known = described.setdefault(d["name"], d)
            if known.get("target") != d.get("target"):
                raise MergeError(
                    f"two implementations are named {d['name']}: {known.get('target')} and {d.get('target')}"
                )
        for r in report["results"]:
            key = (r.get("implementation"), r["id"])
            if key in results and results[key]["status"] != r["status"]:
                raise MergeError(
                    f"{where[key]} and {name} disagree on {r['id']}"
                    + (f" for {key[0]}" if key[0] else "")
                    + f": {results[key]['status']} and {r['status']}"
                )
            results.setdefault(key, r)
            where.setdefault(key, name)
    run = {k: v for k, v in runs[0].items() if k != "shard"}
    skipped = {s["path"]: s for report in reports for s in report.get("skipped") or []}
    merged = {
        **header,
        "run": {**run, "shard": None, "merged_from": names},
        "skipped": list(skipped.values()),
        "implementations": list(described.values()),
        "results": list(results.values()),
        "partial": any(report.get("partial") for report in reports),
        "seconds": max((report.get("seconds") or 0.0) for report in reports),
    }
    return finish(merged)
