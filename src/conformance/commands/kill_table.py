"""`conformance mutants`: the catalogue against every mutant and every conforming variant.

A mutant is killed when any property reports failed, error, timeout, crashed or
tampered for it (a tampered one is also marked as such). The implementation mutants
run in one pytest session with every implementation plugged in at once, so compiled
callables and the worker processes are shared; with ``--conforming-examples`` the
reference and the variants get a second session of their own. Each Flax mutant (implementations/flax_mutants) patches
Flax itself, so it runs alone in a fresh process, on the framework properties
it names in CAUGHT_BY.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conformance.engine.mutants import (
    REFERENCE,
    Mutant,
    discover_conforming,
    discover_flax_mutants,
    discover_mutants,
)
from conformance.engine.outcomes import BAD, TAMPERED


def run_flax_mutants(
    mutants: list[Mutant],
    *,
    profile: str,
    workers: int,
    compilation_cache: str | None = None,
    max_examples: int | None = None,
) -> dict[str, Any]:
    """Each Flax mutant in its own process, ``workers`` at a time; one merged report."""
    from conformance.engine.report import load_report
    from conformance.engine.runner import pytest_args

    work = tempfile.mkdtemp(prefix="conformance-flax-mutants-")

    def one(m: Mutant) -> list[dict[str, Any]]:
        path = os.path.join(work, f"{m.name}.json")
        args = pytest_args(
            impls=[REFERENCE],
            profile=profile,
            json_path=path,
            workers=0,
            kind="framework",
            only=list(m.caught_by),
            shrink=False,
            compilation_cache=compilation_cache,
            max_examples=max_examples,
        )
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", *args, "--flax-mutant", m.target], capture_output=True, text=True
        )
        if not os.path.exists(path):  # the process died before it could report
            return [
                {
                    "implementation": m.name,
                    "id": pid,
                    "status": "crashed",
                    "message": proc.stdout[-1000:] + proc.stderr[-1000:],
                }
                for pid in m.caught_by
            ]
        return [{**r, "implementation": m.name} for r in load_report(path)["results"]]

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = [r for rows in pool.map(one, mutants) for r in rows]
    return {"results": results, "partial": False}


def _statuses(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    """implementation name -> property id -> status."""
    by_impl: dict[str, dict[str, str]] = {}
    for r in report["results"]:
        by_impl.setdefault(r["implementation"], {})[r["id"]] = r["status"]
    return by_impl


def _mutant_rows(
    by_impl: dict[str, dict[str, str]], mutants: list[Mutant], kills: dict[str, list[str]]
) -> list[dict[str, Any]]:
    rows = []
    for m in mutants:
        statuses = by_impl.get(m.name, {})
        killed_by = sorted(pid for pid, s in statuses.items() if s in BAD)
        for pid in killed_by:
            kills.setdefault(pid, []).append(m.name)
        rows.append(
            {
                "name": m.name,
                "document": m.document,
                "defect": m.defect,
                "killed": bool(killed_by),
                "killed_by": killed_by,
                "tampered": TAMPERED in statuses.values(),
                "caught_by_expected": list(m.caught_by),
                "missed_expected": sorted(set(m.caught_by) - set(killed_by)),
            }
        )
    return rows


def _score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    killed = sum(r["killed"] for r in rows)
    return {"killed": killed, "total": len(rows), "ratio": round(killed / len(rows), 4) if rows else 1.0}


def kill_table(
    report: dict[str, Any],
    mutants: list[Mutant],
    conforming: list[str],
    property_ids: list[str],
    flax_report: dict[str, Any] | None = None,
    flax_mutants: list[Mutant] = (),
    framework_ids: list[str] = (),
) -> dict[str, Any]:
    """The JSON document of `conformance mutants --json`, from the run reports.

    A framework property is proven by a Flax mutant it rejects, or by a release
    on which it fails (a range in properties/expectations.toml).
    """
    from conformance.engine.expectations import load_expectations

    by_impl = _statuses(report)
    kills: dict[str, list[str]] = {pid: [] for pid in property_ids}
    mutant_rows = _mutant_rows(by_impl, mutants, kills)
    flax_kills: dict[str, list[str]] = {pid: [] for pid in framework_ids}
    flax_rows = _mutant_rows(_statuses(flax_report or {"results": []}), list(flax_mutants), flax_kills)
    diverging: dict[str, list[str]] = {}
    for d in load_expectations():
        diverging.setdefault(d.property, []).append(str(d.flax))
    unmet = _big_unmet(report)
    conforming_rows = []
    for target in conforming:
        name = target.rsplit(".", 1)[-1]
        statuses = by_impl.get(name, {})
        rejected = sorted(pid for pid, s in statuses.items() if s in BAD)
        conforming_rows.append(
            {
                "name": name,
                "passed": not rejected and bool(statuses),
                "rejected_by": rejected,
                "tampered": TAMPERED in statuses.values(),
                "big_unmet": unmet.get(name, {}),
            }
        )
    properties = [{"id": pid, "kind": "implementation", "kills": sorted(ms)} for pid, ms in sorted(kills.items())]
    properties += [
        {"id": pid, "kind": "framework", "kills": sorted(ms), "fails_on_flax": diverging.get(pid, [])}
        for pid, ms in sorted(flax_kills.items())
    ]
    return {
        "mutants": mutant_rows,
        "flax_mutants": flax_rows,
        "properties": properties,
        "conforming": conforming_rows,
        "framework_big_unmet": unmet.get("flax", {}),
        "score": _score(mutant_rows),
        "flax_score": _score(flax_rows),
        "partial": report.get("partial", False),
    }


def _big_unmet(report: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Per implementation, the passed properties that never met some big value of the pool."""
    found: dict[str, dict[str, list[str]]] = {}
    for r in report.get("results", []):
        missed = (r.get("extra") or {}).get("big_unmet")
        if missed and r.get("status") == "passed":
            found.setdefault(r.get("implementation") or "flax", {})[r["id"]] = missed
    return found


def table_ok(table: dict[str, Any]) -> bool:
    return (
        not table["partial"]
        and all(m["killed"] for m in table["mutants"] + table["flax_mutants"])
        and all(c["passed"] for c in table["conforming"])
    )


def cmd_mutants(args: argparse.Namespace) -> int:
    from conformance.commands.console import Progress, print_kill_table
    from conformance.engine.files import write_json_atomic
    from conformance.engine.profiles import load_profile
    from conformance.engine.registry import discover, matches
    from conformance.engine.report import load_report
    from conformance.engine.runner import EXIT_FAILED, EXIT_OK, UsageError, parse_workers, pytest_args, run_catalogue

    load_profile(args.profile, shrink=False, max_examples=args.max_examples)  # before discover() imports the properties
    mutants, flax_mutants, conforming = discover_mutants(), discover_flax_mutants(), discover_conforming()
    if args.only:
        mutants = [m for m in mutants if matches(m.name, args.only)]
        flax_mutants = [m for m in flax_mutants if matches(m.name, args.only)]
        conforming = [t for t in conforming if matches(t.rsplit(".", 1)[-1], args.only)]
        if not (mutants or flax_mutants or conforming):
            raise UsageError(f"--only {' '.join(args.only)} names no mutant, Flax mutant or conforming variant")
    catalogue = discover().values()
    props = [p.id for p in catalogue if p.kind == "implementation"]
    framework = [p.id for p in catalogue if p.kind == "framework"]
    run_json = os.path.join(tempfile.mkdtemp(prefix="conformance-mutants-"), "run.json")
    workers = parse_workers(args.workers)
    # One session for mutants and variants alike, unless the variants run their own number of examples.
    conforming_examples = args.conforming_examples or args.max_examples
    sessions = (
        [([m.target for m in mutants] + conforming, args.max_examples)]
        if conforming_examples == args.max_examples
        else [([m.target for m in mutants], args.max_examples), (conforming, conforming_examples)]
    )
    parts = []
    for n, (impls, examples) in enumerate(s for s in sessions if s[0]):
        parts.append(f"{run_json}.{n}")
        session = pytest_args(
            impls=impls,
            profile=args.profile,
            json_path=parts[-1],
            workers=workers,
            kind="implementation",
            shrink=False,
            compilation_cache=args.compilation_cache,
            # A mutant or variant that reuses the reference's exports would only rerun the reference's code.
            skip_identical_to=REFERENCE if REFERENCE in impls else None,
            only_declared=args.only_declared,
            max_examples=examples,
        )
        with Progress(len(props) * len(impls)) as progress:
            run_catalogue(session, plugins=[progress.plugin()])
    reports = [load_report(p) for p in parts]
    report = {
        "results": [r for rep in reports for r in rep["results"]],
        "partial": any(rep.get("partial", False) for rep in reports),
    }
    flax_report = run_flax_mutants(
        flax_mutants,
        profile=args.profile,
        workers=workers,
        compilation_cache=args.compilation_cache,
        max_examples=args.max_examples,
    )
    table = kill_table(
        report,
        mutants,
        conforming,
        props,
        flax_report=flax_report,
        flax_mutants=flax_mutants,
        framework_ids=framework,
    )
    if args.json:
        write_json_atomic(args.json, table)
    print_kill_table(table)
    return EXIT_OK if table_ok(table) else EXIT_FAILED
