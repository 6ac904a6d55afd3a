"""The ``conformance`` command: list, run, mutants, matrix.

Exit codes: 0 all provided properties passed (or diverged as expected),
1 some property failed, errored, timed out or crashed, 2 usage or loading error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PROPERTIES_DIR = Path(__file__).resolve().parents[2] / "properties"


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit 2."""


def _parser() -> argparse.ArgumentParser:
    from conformance.profiles import PROFILES
    from conformance.pytest_plugin import DEFAULT_TIMEOUT

    p = argparse.ArgumentParser(prog="conformance", description="Conformance suite for parameter sharing in JAX/Flax.")
    sub = p.add_subparsers(dest="command", required=True)

    ls = sub.add_parser("list", help="list the registered properties")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.add_argument("--kind", choices=("implementation", "framework"))
    ls.add_argument("--document", choices=("01", "02", "03", "04", "05"))

    run = sub.add_parser("run", help="check an implementation (and the installed Flax)")
    run.add_argument("--impl", default=None, metavar="TARGET",
                     help="dotted module or path to a .py file (default: $CONFORMANCE_IMPL or the bundled reference)")
    run.add_argument("--profile", default="default", choices=PROFILES)
    run.add_argument("--json", default=None, metavar="PATH", help="write the JSON report here")
    run.add_argument("--strict", action="store_true", help="missing contract names fail instead of not_provided")
    run.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                     help="seconds per property before it is stopped (default: %(default)g)")
    run.add_argument("--workers", default="2", metavar="N",
                     help="worker processes (default 2; 0 runs in this process, without crash isolation)")
    run.add_argument("--only", action="append", default=None, metavar="ID",
                     help="run only this property id (repeatable; ID* matches a prefix)")
    run.add_argument("--kind", choices=("implementation", "framework"))
    run.add_argument("--example", default=None, metavar="JSON", help="replay one input (with --only)")
    run.add_argument("--repro-dir", default=None, metavar="DIR",
                     help="write a standalone script per failure into DIR")
    run.add_argument("--compilation-cache", default=None, metavar="DIR",
                     help="keep compiled XLA programs in DIR and reuse them in later runs (default: none)")

    mut = sub.add_parser("mutants", help="run the catalogue against every mutant and conforming variant")
    mut.add_argument("--json", default=None, metavar="PATH")
    mut.add_argument("--profile", default="default", choices=PROFILES)
    mut.add_argument("--workers", default="2", metavar="N")
    mut.add_argument("--compilation-cache", default=None, metavar="DIR")

    try:
        from conformance import matrix
    except ImportError:  # pragma: no cover - matrix support is optional in a trimmed install
        matrix = None
    if matrix is not None:
        mx = sub.add_parser("matrix", help="run the framework claims across Flax releases")
        matrix.add_arguments(mx)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed one line of usage error
        return EXIT_USAGE if exc.code else EXIT_OK
    try:
        if args.command == "list":
            return cmd_list(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "mutants":
            from conformance.mutants import cmd_mutants

            return cmd_mutants(args)
        if args.command == "matrix":
            from conformance import matrix

            return matrix.run(args)
    except UsageError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `conformance list --json | head`
        sys.stdout = open(os.devnull, "w")
        return EXIT_OK
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


# --------------------------------------------------------------------------- list

def cmd_list(args: argparse.Namespace) -> int:
    from conformance.registry import discover

    props = [p for p in discover().values()
             if (not args.kind or p.kind == args.kind) and (not args.document or p.document == args.document)]
    if args.json:
        print(json.dumps([p.as_dict() for p in props], indent=2))
        return EXIT_OK
    from conformance.console import properties_table

    properties_table(props)
    return EXIT_OK


# --------------------------------------------------------------------------- run

def _workers(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"--workers takes a number, got {value!r}") from None
    if n < 0:
        raise UsageError("--workers must be 0 or more")
    return n


def pytest_args(*, impls: list[str], profile: str, json_path: str, workers: int, timeout: float,
                strict: bool = False, only: list[str] | None = None, kind: str | None = None,
                example: str | None = None, shrink: bool = True,
                compilation_cache: str | None = None) -> list[str]:
    """The pytest command line that runs the catalogue; shared by run, mutants and the benchmark."""
    from conformance.pytest_plugin import xdist_args

    args = [str(PROPERTIES_DIR), "-p", "no:cacheprovider", "-q", "--no-header", "-rN",
            "--conformance-profile", profile, "--conformance-json", json_path,
            "--conformance-timeout", str(timeout)]
    for target in impls:
        args += ["--impl", target]
    args += xdist_args(workers)
    if strict:
        args.append("--strict-contract")
    for o in only or ():
        args += ["--only", o]
    if kind:
        args += ["--kind", kind]
    if example:
        args += ["--example", example]
    if not shrink:
        args.append("--no-shrink")
    if compilation_cache:
        args += ["--compilation-cache", os.path.abspath(compilation_cache)]
    return args


def run_catalogue(args_list: list[str], *, total_hint: int, quiet: bool = False) -> int:
    """Run pytest in this process with its own output silenced and a progress display."""
    import contextlib
    import io

    import pytest

    from conformance.console import Progress

    markers = tempfile.mkdtemp(prefix="conformance-timeouts-")
    os.environ["CONFORMANCE_TIMEOUT_MARKERS"] = markers
    sink = io.StringIO()
    with Progress(total_hint, enabled=not quiet) as progress:
        with contextlib.redirect_stdout(sink):
            code = pytest.main(args_list, plugins=[progress.plugin()])
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        text = sink.getvalue().strip().splitlines()
        line = next((t for t in reversed(text) if "ERROR" in t or "error" in t), text[-1] if text else "pytest failed")
        raise UsageError(line.replace("ERROR: ", ""))
    return int(code)


def cmd_run(args: argparse.Namespace) -> int:
    from conformance.console import print_run
    from conformance.outcomes import BAD
    from conformance.profiles import load_profile
    from conformance.loading import LoadError, load_implementation, resolve_target
    from conformance.registry import discover
    from conformance.report import load_report

    if args.example and not args.only:
        raise UsageError("--example replays one property's input: give --only ID as well")
    if args.example:
        try:
            json.loads(args.example)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--example is not valid JSON: {exc}") from None
    # Hypothesis fixes a test's settings when its module is imported, and discover()
    # below imports the properties in this process: load the profile first.
    load_profile(args.profile if not args.example else "replay")
    target = resolve_target(args.impl)
    try:
        impl = load_implementation(target)
    except LoadError as exc:
        raise UsageError(f"cannot load implementation: {exc}") from None
    props = discover()
    if args.only:
        unknown = [o for o in args.only if not o.endswith("*") and o not in props]
        if unknown:
            raise UsageError(f"unknown property id(s): {', '.join(unknown)} (see `conformance list`)")
    json_path = args.json or os.path.join(tempfile.mkdtemp(prefix="conformance-"), "report.json")
    code = run_catalogue(pytest_args(
        impls=[target], profile=args.profile, json_path=json_path, workers=_workers(args.workers),
        timeout=args.timeout, strict=args.strict, only=args.only, kind=args.kind, example=args.example,
        compilation_cache=args.compilation_cache,
    ), total_hint=len(props))
    report = load_report(json_path)
    if args.repro_dir:
        from conformance.repro import write_repro_scripts

        write_repro_scripts(report, args.repro_dir)
    print_run(report, impl_description=f"{impl.target} ({impl.path})", json_path=args.json)
    if report["partial"]:
        return 130
    if any(r["status"] in BAD for r in report["results"]):
        return EXIT_FAILED
    # pytest itself failing with nothing recorded (an internal error) is not a pass.
    return EXIT_OK if report["results"] or code == 5 else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
