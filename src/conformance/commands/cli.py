"""The ``conformance`` command: argument parsing and dispatch to one module per subcommand.

Exit codes (owned by :mod:`conformance.engine.runner`): 0 all provided
properties passed (or diverged as expected), 1 some property failed, errored,
timed out, crashed or was tampered, 2 usage or loading error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys

from conformance.engine.defaults import DEFAULT_TIMEOUT, DEFAULT_WORKERS
from conformance.engine.registry import DOCUMENTS, KINDS
from conformance.engine.runner import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError


def add_selection(p: argparse.ArgumentParser) -> None:
    """``--only`` and ``--kind``, the same for every command that runs properties."""
    p.add_argument(
        "--only",
        action="extend",
        nargs="+",
        default=None,
        metavar="ID",
        help="run only these property ids (one or more, and repeatable; ID* matches a prefix)",
    )
    p.add_argument("--kind", choices=KINDS)


def add_outputs(p: argparse.ArgumentParser) -> None:
    """The report files ``run`` and ``merge`` write, besides the terminal table."""
    p.add_argument("--json", default=None, metavar="PATH", help="write the JSON report here")
    p.add_argument(
        "--csv",
        default=None,
        metavar="PATH",
        help="write one row per implementation, one column per implementation property plus totals",
    )
    p.add_argument("--html", default=None, metavar="PATH", help="write a static page: property x implementation")


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


def _parser() -> argparse.ArgumentParser:
    from conformance.commands import bisect, diff
    from conformance.commands.releases import command as releases
    from conformance.engine.profiles import PROFILES
    from conformance.kit.precision import PRECISIONS

    p = argparse.ArgumentParser(prog="conformance", description="Conformance suite for parameter sharing in JAX/Flax.")
    sub = p.add_subparsers(dest="command", required=True)

    ls = sub.add_parser("list", help="list the registered properties")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.add_argument("--kind", choices=KINDS)
    ls.add_argument("--document", choices=DOCUMENTS)

    run = sub.add_parser("run", help="check an implementation (and the installed Flax)")
    run.add_argument(
        "--impl",
        action="extend",
        nargs="+",
        default=None,
        metavar="TARGET",
        help="a dotted module, a .py file, a package's __init__.py, or a folder (each .py file and package in it "
        "is one implementation); one or more, and repeatable (default: $CONFORMANCE_IMPL or the bundled reference)",
    )
    run.add_argument("--profile", default="default", choices=PROFILES)
    add_outputs(run)
    run.add_argument("--strict", action="store_true", help="missing contract names fail instead of not_provided")
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help="seconds per property before it is stopped (default: %(default)g)",
    )
    run.add_argument(
        "--deadline",
        default="auto",
        metavar="S",
        help="seconds the whole run may take; past them every property without a verdict is reported "
        "timeout (default: auto, from --timeout, the properties and the workers; 0: none)",
    )
    run.add_argument(
        "--max-memory",
        type=float,
        default=None,
        metavar="MIB",
        help="MiB each worker may allocate; past it the property is crashed (out of memory) and the "
        "worker replaced (default: half the machine's memory split between the workers; 0: none)",
    )
    run.add_argument(
        "--workers",
        default=str(DEFAULT_WORKERS),
        metavar="N",
        help=f"worker processes (default {DEFAULT_WORKERS}; 0 runs in this process, without crash isolation); "
        "with several implementations, how many implementations run at once, each in processes of its own",
    )
    run.add_argument(
        "--shard",
        default=None,
        metavar="I/N",
        help="run only part I of N of the selected properties (a CI matrix; `conformance merge` joins the parts)",
    )
    run.add_argument(
        "--cluster",
        default=None,
        metavar="ADDRESS",
        help="run each implementation as a task on a Dask cluster: a scheduler's address (tcp://host:8786), "
        "or local:N for N worker processes on this machine",
    )
    add_selection(run)
    run.add_argument(
        "--max-examples",
        type=_positive,
        default=None,
        metavar="N",
        help="examples per property, instead of the profile's (100 for default and ci)",
    )
    run.add_argument("--example", default=None, metavar="JSON", help="replay one input (with --only)")
    run.add_argument(
        "--pool-seed",
        type=int,
        default=None,
        metavar="N",
        help="draw the shape pool from this seed (default: fixed for --profile ci, new each run otherwise)",
    )
    run.add_argument(
        "--precision",
        default="auto",
        choices=("auto", *PRECISIONS),
        help="effective precision of float32 matmuls, which the tolerances follow (default: detected)",
    )
    run.add_argument(
        "--emulate-precision",
        default=None,
        choices=tuple(PRECISIONS),
        metavar="NAME",
        help="round float32 matmul operands to NAME (tf32, bfloat16) to check the tolerance model on CPU",
    )
    run.add_argument(
        "--isolate-calls",
        action="store_true",
        help="for untrusted implementations: import the implementation only in a process of its own and call "
        "its forward functions there, so that nothing it does can change a verdict (module exports are "
        "then not_provided; README, 'Untrusted implementations')",
    )
    run.add_argument("--repro-dir", default=None, metavar="DIR", help="write a standalone script per failure into DIR")
    run.add_argument(
        "--compilation-cache",
        default=None,
        metavar="DIR",
        help="keep compiled XLA programs in DIR and reuse them in later runs "
        "(default: $CONFORMANCE_COMPILATION_CACHE, else none)",
    )

    cl = sub.add_parser(
        "claims", help="the claims catalogue: every document statement and the properties that check it"
    )
    cl.add_argument("--json", action="store_true", help="print JSON instead of tables")
    cl.add_argument("--document", choices=DOCUMENTS, metavar="NN", help="only this document (01-05)")

    mut = sub.add_parser("mutants", help="run the catalogue against every mutant and conforming variant")
    mut.add_argument("--json", default=None, metavar="PATH")
    mut.add_argument("--profile", default="default", choices=PROFILES)
    mut.add_argument(
        "--max-examples",
        type=_positive,
        default=None,
        metavar="N",
        help="examples per property, instead of the profile's",
    )
    mut.add_argument(
        "--conforming-examples",
        type=_positive,
        default=None,
        metavar="N",
        help="examples per property for the reference and the conforming variants (default: as for the mutants); "
        "every big shape of the pool is still met once",
    )
    mut.add_argument("--workers", default=str(DEFAULT_WORKERS), metavar="N")
    mut.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="NAME",
        help="only these mutants, Flax mutants or conforming variants (a trailing * matches a prefix), "
        "e.g. a new mutant alone",
    )
    mut.add_argument("--compilation-cache", default=None, metavar="DIR")
    mut.add_argument(
        "--only-declared",
        action="store_true",
        help="run each mutant only on the properties its CAUGHT_BY names (each is still checked to "
        "fail it; the table then lists no other kills)",
    )

    mg = sub.add_parser("merge", help="join the JSON reports of one run's parts (--shard) or of separate runs")
    mg.add_argument("reports", nargs="+", metavar="REPORT", help="JSON reports written by `conformance run --json`")
    mg.add_argument("-o", "--output", dest="json", default=None, metavar="PATH", help="write the merged JSON report")
    mg.add_argument("--csv", default=None, metavar="PATH", help="write the grade-book CSV of the merged report")
    mg.add_argument("--html", default=None, metavar="PATH", help="write the static page of the merged report")

    mx = sub.add_parser("matrix", help="run the catalogue across Flax builds (releases, wheels, checkouts) and jax")
    releases.add_arguments(mx)

    bi = sub.add_parser("bisect", help="find the first Flax build where one property's verdict changes")
    bisect.add_arguments(bi)

    df = sub.add_parser("diff", help="what changed between two run reports or two matrix reports")
    diff.add_arguments(df)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed one line of usage error
        return EXIT_USAGE if exc.code else EXIT_OK
    try:
        if args.command == "list":
            from conformance.commands.listing import cmd_list

            return cmd_list(args)
        if args.command == "run":
            from conformance.commands.run import cmd_run

            return cmd_run(args)
        if args.command == "claims":
            from conformance.commands.claims import cmd_claims

            return cmd_claims(args)
        if args.command == "mutants":
            from conformance.commands.kill_table import cmd_mutants

            return cmd_mutants(args)
        if args.command == "merge":
            from conformance.commands.merge import cmd_merge

            return cmd_merge(args)
        if args.command == "matrix":
            from conformance.commands.releases import command as releases

            return releases.run(args)
        if args.command == "bisect":
            from conformance.commands import bisect

            return bisect.run(args)
        if args.command == "diff":
            from conformance.commands import diff

            return diff.run(args)
    except UsageError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `conformance list --json | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stdout for the rest of the process
        return EXIT_OK
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
