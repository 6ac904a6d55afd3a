"""``conformance diff OLD.json NEW.json``: what changed between two run reports or two matrix reports.

Lists every property whose verdict changed, with both messages; two matrices
are compared column by column (:mod:`conformance.engine.changes`, which also
defines a regression). Exit status: 0 when nothing regressed, 1 when a property
regressed, 2 when a file is missing, is not JSON, or the two are not reports of
the same kind.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from conformance.engine.changes import Change, between, compare
from conformance.engine.runner import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError

RUN, MATRIX = "run report", "matrix report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", metavar="OLD.json", help="the earlier report (conformance run --json, or matrix --json)")
    parser.add_argument("new", metavar="NEW.json", help="the later report, of the same kind")


def load(path: str) -> tuple[str, dict[str, Any]]:
    """(kind, report); UsageError with one line when the file is not a report."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: not a JSON report ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        kind, results = RUN, [data["results"]]
    elif isinstance(data, dict) and isinstance(data.get("versions"), list):
        kind, results = MATRIX, [v.get("results") if isinstance(v, dict) else None for v in data["versions"]]
    else:
        raise UsageError(f"{path}: neither a run report (a 'results' list) nor a matrix report (a 'versions' list)")
    for listed in results:
        if not isinstance(listed, list) or not all(
            isinstance(r, dict) and {"id", "status"} <= r.keys() for r in listed
        ):
            raise UsageError(f"{path}: a {kind} whose results lack 'id' or 'status'")
    return kind, data


def _run_name(report: dict[str, Any]) -> str:
    versions = report.get("versions") or {}
    impl = report.get("implementation") or {}
    target = impl.get("target", "?") if isinstance(impl, dict) else str(impl)
    return f"{target} on flax {versions.get('flax', '?')}, jax {versions.get('jax', '?')}"


def change_text(change: Change) -> list[str]:
    mark = "  REGRESSED" if change.regressed else ""
    lines = [f"{change.id}: {change.old_status} -> {change.new_status}{mark}"]
    for side, result in (("old", change.old), ("new", change.new)):
        message = (result or {}).get("message") or ("(not in this report)" if result is None else "(no message)")
        lines.append(f"    {side}: " + message.splitlines()[0])
        lines += [f"         {line}" for line in message.splitlines()[1:]]
    return lines


def run(args: argparse.Namespace) -> int:
    try:
        old_kind, old = load(args.old)
        new_kind, new = load(args.new)
        if old_kind != new_kind:
            raise UsageError(f"{args.old} is a {old_kind} and {args.new} a {new_kind}: compare two of one kind")
    except UsageError as exc:
        print(f"conformance diff: {exc}")
        return EXIT_USAGE
    if old_kind == RUN:
        sections = [(f"{_run_name(old)} -> {_run_name(new)}", compare(old["results"], new["results"]))]
        only_old: list[str] = []
        only_new: list[str] = []
    else:
        pairs, only_old, only_new = between(old, new)
        sections = [(f"flax {p.title}", p.changes) for p in pairs]
    changes = [c for _, section in sections for c in section]
    for title, section in sections:
        print(f"{title}: {len(section) or 'no'} change{'s' if len(section) != 1 else ''}")
        for change in section:
            print("\n".join("  " + line for line in change_text(change)))
    for names, where in ((only_old, args.old), (only_new, args.new)):
        if names:
            print(f"only in {where} (not compared): {', '.join(names)}")
    regressed = [c for c in changes if c.regressed]
    print(
        f"diff: {len(changes)} change{'s' if len(changes) != 1 else ''}, {len(regressed)} regressed"
        + (f" ({', '.join(sorted({c.id for c in regressed}))})" if regressed else "")
    )
    return EXIT_FAILED if regressed else EXIT_OK
