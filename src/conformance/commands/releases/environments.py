"""Cached uv environments, one per pinned requirement set, reused while their stamp matches.

Environments live under ``.conformance/envs/<name>/``; the stamp (a hash of the
interpreter, the requirement set and the install options) is written last, so
a torn build is never reused.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conformance.engine.runner import UsageError

STAMP = ".conformance-stamp.json"
INSTALL_OPTIONS = ("--compile-bytecode",)  # as in the Makefile: .pyc files are never written later where
# PYTHONDONTWRITEBYTECODE is set, and each worker would compile jax


class BuildError(Exception):
    """uv could not build an environment."""


def cache_key(
    reqs: list[str],
    python: str,
    no_deps: list[str] | tuple[str, ...] = (),
    constraints: list[str] | tuple[str, ...] = (),
) -> str:
    recipe: dict[str, Any] = {"python": python, "requirements": sorted(reqs), "install": INSTALL_OPTIONS}
    if no_deps:  # absent otherwise, so that the keys of existing environments do not change
        recipe["no_deps"] = sorted(no_deps)
    if constraints:
        recipe["constraints"] = sorted(constraints)
    blob = json.dumps(recipe, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def repo_root() -> Path:
    from conformance.engine.registry import properties_dir

    root = properties_dir().resolve().parent  # the checkout, when the project is installed from one
    if not (root / "properties" / "__init__.py").is_file() or not (root / "src" / "conformance").is_dir():
        raise UsageError(
            f"conformance matrix runs from a source checkout; {root} has no properties/ and src/conformance/"
        )
    return root


def find_uv(explicit: str | None) -> str:
    for candidate in (explicit, str(Path(sys.executable).parent / "uv"), shutil.which("uv")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise UsageError("uv not found: install it (`pip install uv`) or pass --uv PATH")


def interpreter(uv: str, request: str | None) -> tuple[str, str]:
    """(path, 'CPython 3.11.7 x86_64') of the Python the environments are built on."""
    path = request or sys.executable
    if not Path(path).is_file():
        found = subprocess.run([uv, "python", "find", path], capture_output=True, text=True)
        if found.returncode != 0:
            raise UsageError(f"--python {request}: uv finds no such interpreter ({last_line(found.stderr)})")
        path = found.stdout.strip()
    probe = subprocess.run(
        [path, "-c", "import platform as p; print(p.python_implementation(), p.python_version(), p.machine())"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        raise UsageError(f"--python {path}: cannot run it ({last_line(probe.stderr)})")
    return path, probe.stdout.strip()


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def _uv_error(text: str, limit: int = 1200) -> str:
    """uv's error report on one line, without its box-drawing decoration."""
    lines = [re.sub(r"^[\s×╰─▶│├]+", "", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("Using ", "Creating ", "Activate "))]
    msg = " ".join(lines) or "uv failed without a message"
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_stamp(env: Path) -> dict[str, Any] | None:
    try:
        return json.loads((env / STAMP).read_text())
    except (OSError, ValueError):
        return None


def env_is_current(env: Path, key: str) -> bool:
    stamp = read_stamp(env)
    return bool(stamp and stamp.get("key") == key and (env / "bin" / "python").exists())


def build_env(
    uv: str,
    python: str,
    env: Path,
    reqs: list[str],
    key: str,
    log: Path,
    no_deps: list[str] | tuple[str, ...] = (),
    constraints: list[str] | tuple[str, ...] = (),
) -> None:
    """(Re)create ``env`` with exactly ``reqs`` (their dependencies held to ``constraints``), then ``no_deps``
    installed without their declared dependencies (pinned packages whose own requirements the first set already
    meets); the stamp is written last, so a torn build is never reused."""
    shutil.rmtree(env, ignore_errors=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    quiet = os.environ.copy()
    quiet.pop("VIRTUAL_ENV", None)
    with open(log, "w") as out:
        target = ["--python", str(env / "bin" / "python")]
        limits = []
        if constraints:
            held = log.with_suffix(".constraints.txt")
            held.write_text("".join(f"{c}\n" for c in constraints))
            limits = ["--constraint", str(held)]
        steps = [
            [uv, "venv", "--no-project", "--python", python, str(env)],
            [uv, "pip", "install", *INSTALL_OPTIONS, *target, *limits, *reqs],
        ]
        if no_deps:
            steps.append([uv, "pip", "install", *INSTALL_OPTIONS, "--no-deps", *target, *no_deps])
        for step in steps:
            out.write(f"$ {' '.join(step)}\n")
            out.flush()
            done = subprocess.run(step, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=quiet)
            out.write(done.stdout)
            if done.returncode != 0:
                raise BuildError(
                    f"`uv {step[1]}{' install' if step[1] == 'pip' else ''}` failed "
                    f"(log: {log}): {_uv_error(done.stdout)}"
                )
        freeze = subprocess.run(
            [uv, "pip", "freeze", "--python", str(env / "bin" / "python")], capture_output=True, text=True, env=quiet
        ).stdout.split()
    stamp = {
        "key": key,
        "requirements": reqs,
        "no_deps": list(no_deps),
        "constraints": list(constraints),
        "installed": freeze,
        "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (env / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")


def install_checkout(uv: str, env: Path, root: Path, log: Path) -> None:
    """Install the checkout into ``env``, editable and without dependencies (the env pins those).

    Editable, so that a run sees the checkout's current properties without a
    rebuild; installed, so that the catalogue has its package names and pytest
    finds the plugin through its entry point, as in a user's environment. Done
    once per checkout and ``pyproject.toml`` (about 3 s each time saved: a
    bisection visits many environments once each, a matrix reruns cached ones).
    """
    marker = env / ".conformance-checkout.json"
    wanted = {"root": str(root), "pyproject": hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()}
    try:
        if json.loads(marker.read_text()) == wanted:
            return
    except (OSError, ValueError):
        pass
    quiet = os.environ.copy()
    quiet.pop("VIRTUAL_ENV", None)
    step = [uv, "pip", "install", "--no-deps", "--python", str(env / "bin" / "python"), "-e", str(root)]
    done = subprocess.run(step, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=quiet)
    with open(log, "a") as out:
        out.write(f"$ {' '.join(step)}\n{done.stdout}")
    if done.returncode != 0:
        raise BuildError(f"installing the checkout into {env} failed (log: {log}): {_uv_error(done.stdout)}")
    marker.write_text(json.dumps(wanted))


def prune(cache: Path, envs: set[str], builds: set[str]) -> list[str]:
    """Delete the environments and local builds under ``cache`` that are not named; return what went.

    A scheduled job that builds Flax's main branch makes a new environment with
    every commit: pruning after each run keeps its cache to what the next run
    can reuse.
    """
    gone = []
    for entry in sorted(cache.glob("flax-*")):
        if entry.is_dir() and entry.name not in envs:
            shutil.rmtree(entry, ignore_errors=True)
            gone.append(entry.name)
    for entry in sorted((cache / "builds").glob("*")):
        if entry.is_dir() and entry.name not in builds and not entry.name.startswith(".incoming-"):
            shutil.rmtree(entry, ignore_errors=True)
            gone.append(f"builds/{entry.name}")
    return gone
