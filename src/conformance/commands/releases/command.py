"""``conformance matrix``: the whole catalogue against several Flax builds, each with one or more jax releases.

A build is a published release (its jax/jaxlib pair from ``compat.toml`` beside
this module), a wheel, an sdist or a Flax source tree (:mod:`.builds`). Each
column (one build with one jax) gets its own environment, built with uv from the
build, its jax pair and the suite's runtime dependencies pinned from
``requirements.lock``. The checkout is installed there editable and without
dependencies before each run, so editing a property never invalidates an
environment. Environments are cached under ``.conformance/envs/`` and reused
while their stamp (a hash of the interpreter and the requirement set, which for
a local build names its content hash) matches.

In each environment pytest runs the framework properties and the reference
implementation's properties with the ``ci`` profile; the JSON reports are merged
into one matrix (see :mod:`.render`), which also lists what changed from each
column to the next.

Exit status: 0 when every divergence is an expected one, 1 when any column
shows a regression (failed, error, crashed, timeout, tampered), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from conformance.engine.files import write_text_atomic
from conformance.engine.outcomes import BAD
from conformance.engine.runner import EXIT_USAGE, UsageError

from . import page, render
from .builds import Column, plan, prepare
from .builds import parse_spec as parse_build
from .columns import Workshop, add_run_options, run_column, workshop_from
from .environments import prune
from .execution import catalogue
from .pairs import COMPAT_FILE, load_compat, missing_pair_message, newest
from .results import exit_code, regressions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--flax",
        nargs="+",
        default=[],
        metavar="BUILD",
        help=f"Flax builds to test: a release with a jax pair in {COMPAT_FILE}, a wheel, an sdist or a source "
        "directory; BUILD@JAX runs it with that jax (and the jaxlib of the same version)",
    )
    parser.add_argument(
        "--newest",
        type=int,
        default=0,
        metavar="N",
        help="also test the N newest releases of the pair table (before the --flax builds)",
    )
    parser.add_argument(
        "--jax",
        nargs="+",
        metavar="V",
        help="run every build without @JAX once with each of these jax releases (default: its pair)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the matrix as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the matrix as Markdown")
    parser.add_argument("--html", metavar="PATH", help="write the matrix as one static HTML page")
    parser.add_argument(
        "--prune",
        action="store_true",
        help="afterwards, delete the cached environments and local builds this run did not use",
    )
    parser.add_argument(
        "--only",
        action="extend",
        nargs="+",
        metavar="ID",
        help="run only these property ids (one or more, and repeatable; ID* matches a prefix)",
    )
    add_run_options(parser)


def _columns(args: argparse.Namespace, workshop: Workshop) -> list[Column]:
    table = load_compat()
    if args.newest < 0:
        raise UsageError("--newest must be >= 0")
    texts = newest(table, args.newest) + list(args.flax)
    if not texts:
        raise UsageError("name the builds to test: --flax BUILD [BUILD ...] and/or --newest N")
    specs = [parse_build(t) for t in texts]
    for spec in specs:  # refused before anything is built
        if spec.kind == "release" and spec.jax is None and not args.jax and spec.what not in table:
            raise UsageError(missing_pair_message(spec.what, list(table)))
    return plan([(s, prepare(s, workshop.cache, workshop.uv)) for s in specs], args.jax, table, workshop.lock)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True)
    try:
        workshop = workshop_from(args)
        columns = _columns(args, workshop)
    except UsageError as exc:
        console.print(f"conformance matrix: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_USAGE
    expected = catalogue(args.only)

    matrix = {"implementation": args.impl, "profile": args.profile, "python": workshop.python_id, "versions": []}
    started = time.monotonic()
    with _progress(console) as progress:
        tasks = [
            progress.add_task(f"flax {c.label} · jax {c.pair.jax}", total=len(expected) or None, phase="queued")
            for c in columns
        ]
        for column, task in zip(columns, tasks, strict=True):

            def phase(text: str, done: int | None, task: Any = task) -> None:
                progress.update(task, phase=text, **({"completed": done} if done is not None else {}))

            result = run_column(column, workshop, expected, phase)
            matrix["versions"].append(result)
            bad = sum(result["summary"].get(s, 0) for s in BAD)
            done = (
                f"[{'red' if bad else 'green'}]{render.counts_text(result['summary'])}[/] "
                f"({result['seconds']:.0f} s{', cached env' if result['env_cached'] else ''})"
            )
            progress.update(task, completed=len(result["results"]), total=len(result["results"]) or 1, phase=done)
            if not console.is_terminal:  # no live display: one line per column instead
                console.print(f"flax {column.label} · jax {result['jax']}: {done}", highlight=False, soft_wrap=True)
    matrix["seconds"] = round(time.monotonic() - started, 1)
    matrix["regressions"] = len(regressions(matrix))

    out = Console() if Console().is_terminal else Console(width=max(100, 48 + 16 * len(columns)))
    for renderable in render.terminal(matrix):
        out.print(renderable)
    written = []
    if args.json:
        write_text_atomic(args.json, json.dumps(matrix, indent=2, default=str) + "\n")
        written.append(args.json)
    for path, build in ((args.markdown, render.markdown), (args.html, page.html)):
        if path:
            write_text_atomic(path, build(matrix))
            written.append(path)
    for path in written:
        out.print(f"wrote {path}", highlight=False)
    if args.prune:
        kept_builds = {Path(c.build.wheel).parent.name for c in columns if c.build.wheel}
        gone = prune(workshop.cache, {c.env_name for c in columns}, kept_builds)
        out.print(
            f"pruned {len(gone)} unused entr{'y' if len(gone) == 1 else 'ies'} of {workshop.cache}", highlight=False
        )
    return exit_code(matrix)


def _progress(console: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[phase]}"),
        console=console,
        disable=not console.is_terminal,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="conformance matrix", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("conformance matrix: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
