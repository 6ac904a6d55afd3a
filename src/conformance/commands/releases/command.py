"""``conformance matrix``: the whole catalogue against several Flax releases.

Each release gets its own environment, built with uv from one table,
``compat.toml`` beside this module (flax version -> jax/jaxlib pair), plus the
suite's runtime dependencies pinned from ``requirements.lock``. The checkout is
installed there editable and without dependencies before each run, so editing a
property never invalidates an environment. Environments are cached
under ``.conformance/envs/flax-X-jax-J/`` and reused while their stamp (a hash
of the interpreter and the pinned requirement set) matches.

In each environment pytest runs the framework properties and the reference
implementation's properties with the ``ci`` profile; the per-release JSON
reports are merged into one matrix (see :mod:`.render`).

Exit status: 0 when every divergence is an expected one, 1 when any release
shows a regression (failed, error, crashed, timeout), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.engine.defaults import DEFAULT_TARGET, DEFAULT_TIMEOUT, DEFAULT_WORKERS
from conformance.engine.files import write_text_atomic
from conformance.engine.outcomes import BAD, ERROR
from conformance.engine.profiles import PROFILES
from conformance.engine.runner import EXIT_USAGE, UsageError

from . import page, render
from .environments import (
    BuildError,
    build_env,
    cache_key,
    env_is_current,
    env_name,
    find_uv,
    install_checkout,
    interpreter,
    locked,
    repo_root,
)
from .execution import Expected, catalogue, run_properties
from .pairs import COMPAT_FILE, Pair, load_compat, lock_pins, pairs_for, requirements
from .results import exit_code, regressions, release_results, summarize

DEFAULT_RELEASE_TIMEOUT = 3600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--flax",
        nargs="+",
        required=True,
        metavar="V",
        help=f"Flax releases to test; each needs a jax/jaxlib pair in {COMPAT_FILE}",
    )
    parser.add_argument("--json", metavar="PATH", help="write the matrix as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the matrix as Markdown")
    parser.add_argument("--html", metavar="PATH", help="write the matrix as one static HTML page")
    parser.add_argument(
        "--impl",
        default=DEFAULT_TARGET,
        metavar="TARGET",
        help="implementation whose properties run in each release (default: %(default)s)",
    )
    parser.add_argument("--profile", default="ci", choices=PROFILES, help="Hypothesis profile (default: %(default)s)")
    parser.add_argument(
        "--only",
        action="extend",
        nargs="+",
        metavar="ID",
        help="run only these property ids (one or more, and repeatable; ID* matches a prefix)",
    )
    parser.add_argument(
        "-n",
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        metavar="N",
        help="pytest-xdist workers per release (default: %(default)s; 0 runs in one process, without crash isolation)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help="seconds per property before it is stopped (default: %(default)g)",
    )
    parser.add_argument(
        "--cache-dir", metavar="DIR", help="where environments are kept (default: <checkout>/.conformance/envs)"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild environments even if cached")
    parser.add_argument("--python", metavar="PY", help="interpreter for the environments (default: this one)")
    parser.add_argument("--uv", metavar="PATH", help="uv executable (default: the one beside this Python, then PATH)")
    parser.add_argument(
        "--release-timeout",
        type=float,
        default=DEFAULT_RELEASE_TIMEOUT,
        metavar="S",
        help="seconds for one release's whole run (default: %(default)g)",
    )


def _check_args(args: argparse.Namespace) -> None:
    if args.workers < 0:
        raise UsageError("--workers must be >= 0")
    if args.release_timeout <= 0 or args.timeout < 0:
        raise UsageError("--release-timeout must be > 0 and --timeout >= 0")


def run_release(
    pair: Pair,
    *,
    root: Path,
    cache: Path,
    uv: str,
    python: str,
    python_id: str,
    lock: dict[str, str],
    expected: list[Expected],
    args: argparse.Namespace,
    phase: Callable[[str, int | None], None],
) -> dict[str, Any]:
    """Build (or reuse) one release's environment, run the catalogue there, return its matrix column."""
    start = time.monotonic()
    reqs = requirements(pair, lock)
    key = cache_key(reqs, python_id)
    env = cache / env_name(pair)
    column: dict[str, Any] = {
        "flax": pair.flax,
        "jax": pair.jax,
        "jaxlib": pair.jaxlib,
        "python": python_id,
        "note": pair.note,
        "requirements": reqs,
        "env_cached": True,
    }
    with locked(cache / f".{env_name(pair)}.lock"):
        build_log = cache / "logs" / f"{env_name(pair)}.build.log"
        t = time.monotonic()
        try:
            if args.rebuild or not env_is_current(env, key):
                column["env_cached"] = False
                phase("building environment", None)
                build_env(uv, python, env, reqs, key, build_log)
            install_checkout(uv, env, root, build_log)
        except BuildError as exc:
            column["build_seconds"] = round(time.monotonic() - t, 1)
            column["results"] = [
                {
                    "id": e.id,
                    "title": e.title,
                    "status": ERROR,
                    "kind": e.kind,
                    "document": e.document,
                    "inputs": None,
                    "message": f"no environment for flax {pair.flax}: {exc}",
                }
                for e in expected
            ]
            column["summary"] = summarize(column["results"])
            column["seconds"] = round(time.monotonic() - start, 1)
            return column
        column["build_seconds"] = round(time.monotonic() - t, 1)
        phase("running properties", 0)
        report, rc, output = run_properties(
            env, root, args, cache / "logs" / f"{env_name(pair)}.pytest.log", lambda n: phase("running properties", n)
        )
    versions = (report or {}).get("versions", {})
    for name in ("flax", "jax", "jaxlib"):
        if versions.get(name, "not installed") != "not installed":
            column[name] = versions[name]
    column["installed"] = versions
    column["pytest_exit"] = rc
    column["results"] = release_results(expected, report, rc, output, args.release_timeout)
    column["summary"] = summarize(column["results"])
    column["seconds"] = round(time.monotonic() - start, 1)
    return column


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True)
    try:
        _check_args(args)
        pairs = pairs_for(args.flax, load_compat())
        root = repo_root()
        uv = find_uv(args.uv)
        python, python_id = interpreter(uv, args.python)
    except UsageError as exc:
        console.print(f"conformance matrix: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_USAGE
    cache = Path(args.cache_dir) if args.cache_dir else root / ".conformance" / "envs"
    lock_file = root / "requirements.lock"
    lock = lock_pins(lock_file.read_text()) if lock_file.is_file() else {}
    expected = catalogue(args.only)

    matrix = {"implementation": args.impl, "profile": args.profile, "python": python_id, "versions": []}
    started = time.monotonic()
    with _progress(console) as progress:
        tasks = {
            p.flax: progress.add_task(f"flax {p.flax} · jax {p.jax}", total=len(expected) or None, phase="queued")
            for p in pairs
        }
        for pair in pairs:
            task = tasks[pair.flax]

            def phase(text: str, done: int | None, task: Any = task) -> None:
                progress.update(task, phase=text, **({"completed": done} if done is not None else {}))

            column = run_release(
                pair,
                root=root,
                cache=cache,
                uv=uv,
                python=python,
                python_id=python_id,
                lock=lock,
                expected=expected,
                args=args,
                phase=phase,
            )
            matrix["versions"].append(column)
            bad = sum(column["summary"].get(s, 0) for s in BAD)
            done = (
                f"[{'red' if bad else 'green'}]{render.counts_text(column['summary'])}[/] "
                f"({column['seconds']:.0f} s{', cached env' if column['env_cached'] else ''})"
            )
            progress.update(task, completed=len(column["results"]), total=len(column["results"]) or 1, phase=done)
            if not console.is_terminal:  # no live display: one line per release instead
                console.print(f"flax {pair.flax} · jax {column['jax']}: {done}", highlight=False, soft_wrap=True)
    matrix["seconds"] = round(time.monotonic() - started, 1)
    matrix["regressions"] = len(regressions(matrix))

    out = Console() if Console().is_terminal else Console(width=max(100, 48 + 16 * len(pairs)))
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


if __name__ == "__main__":
    sys.exit(main())
