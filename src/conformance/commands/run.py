"""``conformance run``: check one implementation or many, and the installed Flax, against the catalogue.

One implementation on this machine runs as it always has: one pytest session,
its properties spread over the worker processes. Several implementations, or a
cluster, run through :mod:`conformance.engine.batch`: each implementation in
processes of its own, the framework properties once.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from typing import Any

from conformance.engine.runner import UsageError


def _validate(args: argparse.Namespace) -> None:
    if args.example and not args.only:
        raise UsageError("--example replays one property's input: give --only ID as well")
    if args.example:
        try:
            json.loads(args.example)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--example is not valid JSON: {exc}") from None


def _selection(args: argparse.Namespace) -> tuple[list[Any], dict[str, Any]]:
    """The properties this run checks (``--only``, ``--kind``, ``--shard``), and how they were chosen."""
    from conformance.engine import registry
    from conformance.engine.shards import ShardError, parse_shard, shard_ids

    props = registry.discover()
    unknown = registry.unknown_patterns(args.only or (), props)
    if unknown:
        raise UsageError(f"unknown property id(s): {', '.join(unknown)} (see `conformance list`)")
    chosen = [p for p in props.values() if registry.selected(p, only=args.only, kind=args.kind)]
    if args.shard:
        try:
            index, count = parse_shard(args.shard)
        except ShardError as exc:
            raise UsageError(str(exc)) from None
        ids = set(shard_ids([p.id for p in chosen], index, count))
        chosen = [p for p in chosen if p.id in ids]
    run = {"only": args.only, "kind": args.kind, "max_examples": args.max_examples, "shard": args.shard}
    return chosen, run


def cmd_run(args: argparse.Namespace) -> int:
    from conformance.commands.reports import present
    from conformance.engine import runner
    from conformance.engine.batch import TargetError, expand
    from conformance.engine.loading import resolve_target
    from conformance.engine.profiles import load_profile

    _validate(args)
    workers = runner.parse_workers(args.workers)
    # Hypothesis fixes a test's settings when its module is imported, and the selection
    # below imports the properties in this process: load the profile first.
    load_profile(
        args.profile if not args.example else "replay", max_examples=None if args.example else args.max_examples
    )
    try:
        targets, skipped = expand(args.impl or [resolve_target(None)])
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    chosen, run = _selection(args)
    if not chosen:
        raise UsageError("no property ran: --only/--kind/--shard selected nothing")
    if len(targets) == 1 and args.cluster is None:
        report = _run_one(args, targets[0].spec, chosen, run, workers)
    else:
        if workers == 0:
            raise UsageError("--workers 0 runs in this process: give one implementation, without --cluster")
        report = _run_many(args, targets, skipped, chosen, run, workers)
    if not report["partial"] and not runner.executed_any(report):
        # An empty selection or a catalogue that was not found is no verdict at all: never exit 0.
        raise UsageError(runner.why_nothing_ran(report, 0, only=args.only, kind=args.kind))
    return present(report, args)


def _run_one(args: argparse.Namespace, target: str, chosen: list[Any], run: dict[str, Any], workers: int) -> dict:
    from conformance.commands.console import Progress
    from conformance.engine import runner
    from conformance.engine.batch.merge import finish
    from conformance.engine.files import write_json_atomic
    from conformance.engine.report import load_report

    # The implementation is not imported here: this process writes the report and decides the exit status.
    # The plugin loads it where it runs (in the workers, or in a process of its own) and describes it from a
    # separate process; one that does not import is still one line and exit 2 (runner.UsageError).
    json_path = args.json or runner.temporary_report_path()
    with Progress(len(chosen)) as progress:
        code = runner.run_catalogue(
            runner.pytest_args(
                impls=[target],
                profile=args.profile,
                json_path=json_path,
                workers=workers,
                timeout=args.timeout,
                strict=args.strict,
                only=[p.id for p in chosen] if args.shard else args.only,
                kind=args.kind,
                example=args.example,
                compilation_cache=args.compilation_cache,
                pool_seed=args.pool_seed,
                precision=args.precision,
                emulate_precision=args.emulate_precision,
                deadline=runner.parse_deadline(args.deadline),
                max_memory=args.max_memory,
                max_examples=args.max_examples,
                isolate_calls=args.isolate_calls,
            ),
            plugins=[progress.plugin()],
        )
    report = load_report(json_path)
    if not report["partial"] and not runner.executed_any(report):
        raise UsageError(runner.why_nothing_ran(report, code, only=args.only, kind=args.kind))
    report = finish({**report, "run": run, "skipped": []})
    write_json_atomic(json_path, report)
    return report


def _pool_seed(args: argparse.Namespace) -> int:
    """One shape pool for every task of the run, chosen here as the plugin would choose it."""
    from conformance.kit import pools

    if args.pool_seed is not None:
        return args.pool_seed
    return pools.CI_POOL_SEED if args.profile == "ci" else secrets.randbelow(2**31)


def _run_many(
    args: argparse.Namespace, targets: list, skipped: list, chosen: list, run: dict[str, Any], workers: int
) -> dict:
    from conformance.commands.batch_progress import BatchProgress
    from conformance.engine import runner
    from conformance.engine.batch import TargetError, run_batch
    from conformance.engine.batch.cluster import ClusterError
    from conformance.engine.defaults import CACHE_ENV_VAR, default_max_memory_mib
    from conformance.engine.files import write_json_atomic
    from conformance.engine.profiles import DATABASE_DIR, DATABASE_ENV

    deadline = runner.parse_deadline(args.deadline)
    options = {
        "profile": args.profile,
        "timeout": args.timeout,
        "strict": args.strict,
        "example": args.example,
        "pool_seed": _pool_seed(args),
        "precision": args.precision,
        "emulate_precision": args.emulate_precision,
        # Several tasks at once share the machine as one run's workers do.
        "max_memory": args.max_memory
        if args.max_memory is not None or args.cluster
        else default_max_memory_mib(workers),
        "max_examples": args.max_examples,
        "deadline": "auto" if deadline == "auto" else "0",
        "isolate_calls": args.isolate_calls,
    }
    deadline_at = time.time() + float(deadline) if deadline != "auto" and float(deadline) > 0 else None
    if args.cluster is None:  # every task replays and records in this directory's example database
        os.environ.setdefault(DATABASE_ENV, str(DATABASE_DIR.resolve()))
    with BatchProgress(enabled=True) as progress:
        try:
            report = run_batch(
                targets,
                chosen,
                options=options,
                run=run,
                skipped=skipped,
                parallel=workers,
                cluster=args.cluster,
                cache=args.compilation_cache or os.environ.get(CACHE_ENV_VAR),
                deadline_at=deadline_at,
                on_tasks=progress.start,
                on_event=progress.event,
                on_done=progress.done,
            )
        except (ClusterError, TargetError) as exc:
            raise UsageError(str(exc)) from None
    if args.json:
        write_json_atomic(args.json, report)
    return report
