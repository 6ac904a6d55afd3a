"""Running the catalogue inside one release's environment, in a subprocess with a deadline."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.engine import registry
from conformance.engine.plugin.timeouts import MARKERS_ENV
from conformance.engine.runner import pytest_args


@dataclass
class Expected:
    """A property the run should report on (from the checkout's catalogue)."""

    id: str
    title: str
    kind: str
    document: str
    module: str


def catalogue(only: list[str] | None) -> list[Expected]:
    """The properties every release should report; empty if the catalogue cannot be imported here."""
    try:  # one module that does not import here must not hide the others
        props = registry.discover(skip_broken=True)
    except Exception:
        return []
    return [
        Expected(p.id, p.title, p.kind, p.document, p.module) for p in props.values() if registry.selected(p, only=only)
    ]


def pytest_command(python: Path, root: Path, args: argparse.Namespace, json_path: Path) -> list[str]:
    """The catalogue of the checkout at ``root``, run by ``python`` (the release's environment,
    where the checkout is installed: pytest finds the plugin through its entry point)."""
    return [
        str(python),
        "-m",
        "pytest",
        *pytest_args(
            impls=[args.impl],
            profile=args.profile,
            json_path=json_path,
            workers=args.workers or 0,
            timeout=args.timeout,
            only=args.only,
            catalogue=root / "properties",
        ),
        "--continue-on-collection-errors",
        "-rfE",
        "--tb=short",
        "-q",
    ]


def collection_errors(output: str) -> dict[str, str]:
    """``ERROR path/test_x.py - ImportError: ...`` summary lines, by module stem."""
    errors = {}
    for line in output.splitlines():
        m = re.match(r"^ERROR (\S+\.py)(?: - (.*))?$", line.strip())
        if m:
            errors[Path(m.group(1)).stem] = m.group(2) or "collection failed"
    return errors


def _count_results(json_path: Path) -> int:
    try:
        return len(json.loads(json_path.read_text()).get("results", []))
    except (OSError, ValueError):
        return 0


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_properties(
    env: Path, root: Path, args: argparse.Namespace, log: Path, on_progress: Callable[[int], None]
) -> tuple[dict[str, Any] | None, int | None, str]:
    """Run pytest in ``env``; (its JSON report or None, exit code or None on timeout, its output)."""
    with tempfile.TemporaryDirectory(prefix="conformance-matrix-") as tmp:
        json_path = Path(tmp, "report.json")
        markers = Path(tmp, "timeouts")
        markers.mkdir()
        run_env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
        run_env.update({MARKERS_ENV: str(markers), "PYTHONDONTWRITEBYTECODE": "1"})
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w") as out:
            python = env / "bin" / "python"
            cmd = pytest_command(python, root, args, json_path)
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            # cwd is scratch: Hypothesis and pytest leave nothing in the checkout.
            proc = subprocess.Popen(
                cmd, cwd=tmp, env=run_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
            deadline = time.monotonic() + args.release_timeout
            rc: int | None = None
            try:
                while True:
                    try:
                        rc = proc.wait(timeout=0.5)
                        break
                    except subprocess.TimeoutExpired:
                        on_progress(_count_results(json_path))
                        if time.monotonic() > deadline:
                            _stop(proc)
                            rc = None
                            break
            except BaseException:
                _stop(proc)
                raise
        on_progress(_count_results(json_path))
        try:
            report = json.loads(json_path.read_text())
        except (OSError, ValueError):
            report = None
        return report, rc, log.read_text(errors="replace")


def failure_line(output: str, limit: int = 400) -> str:
    """The most telling line of a failed pytest run: its last ``SomeError: ...`` line, else its last line."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip() and not ln.startswith("$ ")]
    errors = [ln for ln in lines if re.match(r"^(E\s+)?[\w.]*(Error|Exception|Exit|Interrupted)\b", ln)]
    line = (errors or lines or ["no output"])[-1]
    line = re.sub(r"^E\s+", "", line)
    return line if len(line) <= limit else line[: limit - 3] + "..."
