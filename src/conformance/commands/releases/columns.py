"""One column of a matrix: build (or reuse) a column's environment, run the catalogue there, collect its verdicts.

Shared by ``conformance matrix`` (every column) and ``conformance bisect`` (the
columns a binary search visits).
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.engine.defaults import DEFAULT_TARGET, DEFAULT_TIMEOUT, DEFAULT_WORKERS
from conformance.engine.outcomes import ERROR
from conformance.engine.profiles import PROFILES
from conformance.engine.runner import UsageError

from .builds import Column
from .environments import (
    BuildError,
    build_env,
    cache_key,
    env_is_current,
    find_uv,
    install_checkout,
    interpreter,
    locked,
    repo_root,
)
from .execution import Expected, run_properties
from .pairs import lock_pins
from .results import release_results, summarize

DEFAULT_RELEASE_TIMEOUT = 3600.0

Phase = Callable[[str, "int | None"], None]


@dataclass
class Workshop:
    """What every column's run needs: where environments live, the tools that build them, the run's options."""

    root: Path
    cache: Path
    uv: str
    python: str
    python_id: str
    lock: dict[str, str]
    args: argparse.Namespace  # impl, profile, only, workers, timeout, release_timeout, rebuild


def add_run_options(parser: argparse.ArgumentParser, *, workers: int = DEFAULT_WORKERS) -> None:
    """The options of every command that runs the catalogue in built environments (matrix, bisect)."""
    parser.add_argument(
        "--impl",
        default=DEFAULT_TARGET,
        metavar="TARGET",
        help="implementation whose properties run in each environment (default: %(default)s)",
    )
    parser.add_argument("--profile", default="ci", choices=PROFILES, help="Hypothesis profile (default: %(default)s)")
    parser.add_argument(
        "-n",
        "--workers",
        type=int,
        default=workers,
        metavar="N",
        help="pytest-xdist workers per environment (default: %(default)s; 0 runs in one process, "
        "without crash isolation)",
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
        help="seconds for one environment's whole run (default: %(default)g)",
    )


def workshop_from(args: argparse.Namespace) -> Workshop:
    """Check the run options and find the checkout, uv and the interpreter; UsageError on bad input."""
    if args.workers < 0:
        raise UsageError("--workers must be >= 0")
    if args.release_timeout <= 0 or args.timeout < 0:
        raise UsageError("--release-timeout must be > 0 and --timeout >= 0")
    root = repo_root()
    uv = find_uv(args.uv)
    python, python_id = interpreter(uv, args.python)
    cache = Path(args.cache_dir).resolve() if args.cache_dir else root / ".conformance" / "envs"
    lock_file = root / "requirements.lock"
    lock = lock_pins(lock_file.read_text()) if lock_file.is_file() else {}
    return Workshop(root, cache, uv, python, python_id, lock, args)


def describe(column: Column, workshop: Workshop) -> dict[str, Any]:
    """A column's header in the matrix JSON: what was built and with which jax, before anything ran."""
    build = column.build
    described: dict[str, Any] = {
        "label": column.label,
        "asked_as": column.asked_as,
        "flax": build.version,
        "jax": column.pair.jax,
        "jaxlib": column.pair.jaxlib,
        "jax_from": column.jax_from,
        "build": {"kind": build.kind, "source": build.source},
        "python": workshop.python_id,
        "note": column.pair.note,
        "env": column.env_name,
        "requirements": column.requirements(workshop.lock),
    }
    if build.local:
        described["build"].update(
            {"wheel": build.wheel, "content": build.content, "commit": build.commit, "dirty": build.dirty}
        )
        described["constraints"] = column.constraints(workshop.lock)
    return described


def run_column(
    column: Column, workshop: Workshop, expected: list[Expected], phase: Phase = lambda text, done: None
) -> dict[str, Any]:
    """Build (or reuse) the column's environment, run the catalogue there, return the column with its verdicts."""
    start = time.monotonic()
    out = describe(column, workshop)
    out["env_cached"] = True
    reqs, held = out["requirements"], out.get("constraints", [])
    key = cache_key(reqs, workshop.python_id, constraints=held)
    env = workshop.cache / column.env_name
    logs = workshop.cache / "logs"
    with locked(workshop.cache / f".{column.env_name}.lock"):
        build_log = logs / f"{column.env_name}.build.log"
        t = time.monotonic()
        try:
            if workshop.args.rebuild or not env_is_current(env, key):
                out["env_cached"] = False
                phase("building environment", None)
                build_env(workshop.uv, workshop.python, env, reqs, key, build_log, constraints=held)
            install_checkout(workshop.uv, env, workshop.root, build_log)
        except BuildError as exc:
            out["build_seconds"] = round(time.monotonic() - t, 1)
            out["env_failed"] = str(exc)
            out["results"] = [
                {
                    "id": e.id,
                    "title": e.title,
                    "status": ERROR,
                    "kind": e.kind,
                    "document": e.document,
                    "inputs": None,
                    "message": f"no environment for flax {column.label} with jax {column.pair.jax}: {exc}",
                }
                for e in expected
            ]
            out["summary"] = summarize(out["results"])
            out["seconds"] = round(time.monotonic() - start, 1)
            return out
        out["build_seconds"] = round(time.monotonic() - t, 1)
        phase("running properties", 0)
        report, rc, output = run_properties(
            env,
            workshop.root,
            workshop.args,
            logs / f"{column.env_name}.{_slug(column.label)}.pytest.log",  # builds may share an environment
            lambda n: phase("running properties", n),
        )
    versions = (report or {}).get("versions", {})
    for name in ("flax", "jax", "jaxlib"):
        if versions.get(name, "not installed") != "not installed":
            out[name] = versions[name]
    out["installed"] = versions
    out["pytest_exit"] = rc
    out["results"] = release_results(expected, report, rc, output, workshop.args.release_timeout)
    out["summary"] = summarize(out["results"])
    out["seconds"] = round(time.monotonic() - start, 1)
    return out


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", label).strip("-")
