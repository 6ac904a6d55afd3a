"""``conformance run``: check one implementation, and the installed Flax, against the catalogue."""

from __future__ import annotations

import argparse
import json

from conformance.engine.runner import UsageError


def cmd_run(args: argparse.Namespace) -> int:
    from conformance.commands.console import Progress, print_run
    from conformance.engine import registry, runner
    from conformance.engine.loading import resolve_target
    from conformance.engine.profiles import load_profile
    from conformance.engine.report import load_report

    if args.example and not args.only:
        raise UsageError("--example replays one property's input: give --only ID as well")
    if args.example:
        try:
            json.loads(args.example)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--example is not valid JSON: {exc}") from None
    workers = runner.parse_workers(args.workers)
    # Hypothesis fixes a test's settings when its module is imported, and discover()
    # below imports the properties in this process: load the profile first.
    load_profile(
        args.profile if not args.example else "replay", max_examples=None if args.example else args.max_examples
    )
    # The implementation is not imported here: the plugin loads it where it runs (in the workers, or in a
    # process of its own), so that nothing it does reaches this process's report and exit status.
    target = resolve_target(args.impl)
    props = registry.discover()
    unknown = registry.unknown_patterns(args.only or (), props)
    if unknown:
        raise UsageError(f"unknown property id(s): {', '.join(unknown)} (see `conformance list`)")
    json_path = args.json or runner.temporary_report_path()
    with Progress(len(props)) as progress:
        code = runner.run_catalogue(
            runner.pytest_args(
                impls=[target],
                profile=args.profile,
                json_path=json_path,
                workers=workers,
                timeout=args.timeout,
                strict=args.strict,
                only=args.only,
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
        # An empty selection or a catalogue that was not found is no verdict at all: never exit 0.
        raise UsageError(runner.why_nothing_ran(report, code, only=args.only, kind=args.kind))
    if args.repro_dir:
        from conformance.commands.repro import write_repro_scripts

        write_repro_scripts(report, args.repro_dir)
    impl = report["implementation"] or {"target": target, "path": None}
    print_run(report, impl_description=f"{impl['target']} ({impl['path']})", json_path=args.json)
    return runner.report_exit_code(report)
