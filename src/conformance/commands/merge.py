"""``conformance merge``: one report from the JSON reports of a run's parts.

The parts are the jobs of a CI matrix, each ``conformance run --shard I/N``, or
separate runs of other implementations with the same versions, profile and shape
pool. The merged report is what one run of everything would have written, and
exits as that run would.
"""

from __future__ import annotations

import argparse
import json

from conformance.engine.runner import UsageError


def cmd_merge(args: argparse.Namespace) -> int:
    from conformance.commands.reports import present
    from conformance.engine.batch import MergeError, merge_reports
    from conformance.engine.files import write_json_atomic

    parts = []
    for path in args.reports:
        try:
            with open(path) as fh:
                report = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"{path}: not a readable JSON report ({exc})") from None
        if not isinstance(report, dict) or "results" not in report:
            raise UsageError(f"{path}: not a report of `conformance run --json` (no results)")
        parts.append((path, report))
    try:
        merged = merge_reports(parts)
    except MergeError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        write_json_atomic(args.json, merged)
    return present(merged, args)
