"""`conformance mutants`: the catalogue against every mutant and every conforming variant.

A mutant is killed when any property reports failed, error, timeout or crashed
for it. The run is one pytest session with every implementation plugged in at
once, so compiled callables and the worker processes are shared.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import tempfile
from dataclasses import dataclass
from typing import Any

from conformance.outcomes import BAD

CONFORMING_PACKAGE = "implementations.variants"
MUTANT_PACKAGE = "implementations.mutants"
REFERENCE = "implementations.reference"


@dataclass(frozen=True)
class Mutant:
    name: str
    target: str
    document: str
    defect: str
    caught_by: tuple[str, ...]


def _modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    return sorted(f"{package}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def discover_mutants() -> list[Mutant]:
    out = []
    for target in _modules(MUTANT_PACKAGE):
        module = importlib.import_module(target)
        missing = [a for a in ("DOCUMENT", "DEFECT", "CAUGHT_BY") if not hasattr(module, a)]
        if missing or not (module.__doc__ or "").strip():
            raise ValueError(f"{target} lacks {', '.join(missing) or 'a docstring'}: every mutant states its defect")
        out.append(Mutant(name=target.rsplit(".", 1)[-1], target=target, document=module.DOCUMENT,
                          defect=module.DEFECT, caught_by=tuple(module.CAUGHT_BY)))
    return out


def discover_conforming() -> list[str]:
    return [REFERENCE, *_modules(CONFORMING_PACKAGE)]


def kill_matrix(report: dict[str, Any], mutants: list[Mutant], conforming: list[str],
                property_ids: list[str]) -> dict[str, Any]:
    """The JSON document of `conformance mutants --json`, from a run report."""
    by_impl: dict[str, dict[str, str]] = {}
    for r in report["results"]:
        by_impl.setdefault(r["implementation"], {})[r["id"]] = r["status"]
    kills: dict[str, list[str]] = {pid: [] for pid in property_ids}
    mutant_rows = []
    for m in mutants:
        statuses = by_impl.get(m.name, {})
        killed_by = sorted(pid for pid, s in statuses.items() if s in BAD)
        for pid in killed_by:
            kills.setdefault(pid, []).append(m.name)
        mutant_rows.append({"name": m.name, "document": m.document, "defect": m.defect,
                            "killed": bool(killed_by), "killed_by": killed_by,
                            "caught_by_expected": list(m.caught_by),
                            "missed_expected": sorted(set(m.caught_by) - set(killed_by))})
    conforming_rows = []
    for target in conforming:
        name = target.rsplit(".", 1)[-1]
        statuses = by_impl.get(name, {})
        rejected = sorted(pid for pid, s in statuses.items() if s in BAD)
        conforming_rows.append({"name": name, "passed": not rejected and bool(statuses), "rejected_by": rejected})
    killed = sum(r["killed"] for r in mutant_rows)
    return {
        "mutants": mutant_rows,
        "properties": [{"id": pid, "kind": "implementation", "kills": sorted(ms)} for pid, ms in sorted(kills.items())],
        "conforming": conforming_rows,
        "score": {"killed": killed, "total": len(mutant_rows),
                  "ratio": round(killed / len(mutant_rows), 4) if mutant_rows else 1.0},
        "partial": report.get("partial", False),
    }


def matrix_ok(matrix: dict[str, Any]) -> bool:
    return (not matrix["partial"] and all(m["killed"] for m in matrix["mutants"])
            and all(c["passed"] for c in matrix["conforming"]))


def cmd_mutants(args: argparse.Namespace) -> int:
    from conformance.cli import EXIT_FAILED, EXIT_OK, _workers, pytest_args, run_catalogue
    from conformance.console import print_kill_matrix
    from conformance.registry import discover
    from conformance.report import load_report, write_json_atomic

    from conformance.profiles import load_profile

    load_profile(args.profile, shrink=False)  # before discover() imports the properties here
    mutants = discover_mutants()
    conforming = discover_conforming()
    props = [p.id for p in discover().values() if p.kind == "implementation"]
    run_json = os.path.join(tempfile.mkdtemp(prefix="conformance-mutants-"), "run.json")
    run_catalogue(pytest_args(impls=[m.target for m in mutants] + conforming, profile=args.profile,
                              json_path=run_json, workers=_workers(args.workers), timeout=120.0,
                              kind="implementation", shrink=False, compilation_cache=args.compilation_cache),
                  total_hint=len(props) * (len(mutants) + len(conforming)))
    matrix = kill_matrix(load_report(run_json), mutants, conforming, props)
    if args.json:
        write_json_atomic(args.json, matrix)
    print_kill_matrix(matrix)
    return EXIT_OK if matrix_ok(matrix) else EXIT_FAILED
