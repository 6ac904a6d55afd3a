"""One task of a run: one implementation's properties, or the framework properties, in processes of its own.

A task is a pytest session like ``conformance run``'s (a controller and its
xdist workers), started as a fresh process group for one implementation only.
That is the isolation between implementations: whatever one changes in its
processes (JAX's configuration, a patched Flax or NumPy function, the default
dtype) ends with them, and no other implementation's properties run there. The
task's working directory and ``TMPDIR`` are a scratch folder of its own,
deleted when it ends. The same function runs a task on this machine and on a
cluster worker (:mod:`.cluster`); only the scratch root and the compilation
cache differ.

The task's report is the single-implementation JSON report. What a task could
not report (its import hung, its controller died, it ran past its bound) is
given a verdict here, so that every property of every task has one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.engine.batch.events import EventReader, EventWriter
from conformance.engine.batch.targets import Target, TargetError
from conformance.engine.defaults import CACHE_ENV_VAR, DEFAULT_TARGET, DEFAULT_TIMEOUT

FRAMEWORK = "framework"
# Seconds a task may take to start (import JAX, Flax and the implementation) past its --timeout.
START_ALLOWANCE = 60.0
# Seconds past a task's own deadline before its processes are ended from outside.
STOP_GRACE = 60.0
# The most an implementation's own files may weigh when shipped to a cluster worker.
MAX_SHIPPED_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Task:
    key: str  # FRAMEWORK, or the implementation's name; with a shard suffix when split
    target: Target | None  # None: the framework properties, run once per run
    ids: tuple[str, ...]  # exactly the properties this task runs
    options: tuple[tuple[str, Any], ...] = ()  # runner.pytest_args keywords, the same for every task of a run
    workers: int = 1  # xdist workers inside the task; 0 runs the properties in the task's own process
    files: tuple[tuple[str, bytes], ...] = ()  # the implementation's files, when it travels to a cluster worker
    deadline_at: float | None = None  # the run's --deadline as a time.time(): the task gets what is left of it

    @property
    def option(self) -> dict[str, Any]:
        return dict(self.options)


@dataclass
class Outcome:
    """A finished task: its report, or why it has none (or not a complete one)."""

    task: Task
    report: dict[str, Any] | None = None
    load_error: str | None = None  # the implementation could not be imported (the one-line reason)
    problem: str | None = None  # why properties may lack a verdict: the task died or was stopped
    problem_status: str = "crashed"  # the verdict those properties get
    seconds: float = 0.0
    spec: str | None = None  # the path the implementation was loaded from, where it was shipped
    interrupted: bool = False  # stopped by an interrupt of the run: what it did not report stays unreported
    # The suite's files changed on disk before this task ended (seen by the run, :func:`.run_batch`): its
    # processes may have imported the edited judge, so none of its verdicts can be trusted.
    judge_edited: tuple[str, ...] = ()


def ship(target: Target) -> tuple[tuple[str, bytes], ...]:
    """An implementation's own files, to recreate on a machine that cannot read this one's disk.

    A file travels alone; a package travels with its folder. A dotted module must be
    installed where the task runs.
    """
    path = Path(target.spec)
    if not path.is_file():
        return ()
    root = path.parent if path.name == "__init__.py" else None
    files = (
        [
            (str(p.relative_to(root.parent)), p)
            for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        ]
        if root is not None
        else [(path.name, path)]
    )
    size = sum(p.stat().st_size for _, p in files)
    if size > MAX_SHIPPED_BYTES:
        raise TargetError(f"{target.spec}: {size} bytes to send to the cluster, more than {MAX_SHIPPED_BYTES}")
    return tuple((name, p.read_bytes()) for name, p in files)


def _materialise(task: Task, scratch: Path) -> str:
    """The spec the task loads: the target's own, or the shipped copy under ``scratch``."""
    if task.target is None:
        return DEFAULT_TARGET
    if not task.files:
        return task.target.spec
    root = scratch / "implementation"
    for name, data in task.files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return (
        str(root / Path(task.target.spec).parent.name / "__init__.py")
        if task.target.spec.endswith("__init__.py")
        else str(root / task.files[0][0])
    )


def _environment(scratch: Path, cache: str | None) -> dict[str, str]:
    tmp = scratch / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)}
    # A dotted --impl is found from the directory the run was started in, as by `conformance run`.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (os.getcwd(), env.get("PYTHONPATH", "")) if p)
    if cache:
        env[CACHE_ENV_VAR] = cache
    return env


def bound(task: Task) -> float:
    """Seconds after which the task's processes are ended from outside (0: none)."""
    from conformance.engine.plugin.deadline import auto_deadline

    timeout = float(task.option.get("timeout", DEFAULT_TIMEOUT))
    deadline = str(task.option.get("deadline", "auto"))
    if deadline != "auto":
        return float(deadline) + STOP_GRACE if float(deadline) > 0 else 0.0
    groups: dict[str, int] = {}
    for pid in task.ids:
        groups[pid[:2]] = groups.get(pid[:2], 0) + 1
    limit = auto_deadline(groups, timeout, max(task.workers, 1))
    return limit + START_ALLOWANCE + STOP_GRACE if limit else 0.0


_RUNNING: set[subprocess.Popen] = set()
_LOCK = threading.Lock()


def _end(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def stop_all() -> None:
    """End every task this process started (an interrupt, the run's deadline)."""
    with _LOCK:
        for proc in list(_RUNNING):
            _end(proc)


@contextlib.contextmanager
def _tracked(proc: subprocess.Popen) -> Iterator[None]:
    with _LOCK:
        _RUNNING.add(proc)
    try:
        yield
    finally:
        with _LOCK:
            _RUNNING.discard(proc)


def execute(
    task: Task,
    *,
    scratch_root: str | None = None,
    cache: str | None = None,
    on_event: Callable[[Task, dict[str, Any]], None] | None = None,
    poll: float = 0.2,
) -> Outcome:
    """Run ``task`` in a process group of its own and wait for it; never raises for what the task does."""
    started = time.monotonic()
    if task.deadline_at is not None:
        left = task.deadline_at - time.time()
        if left <= 0:
            return Outcome(
                task,
                problem="the run reached its deadline (--deadline) before this task began",
                problem_status="timeout",
            )
        task = dataclasses.replace(task, options=tuple(sorted({**task.option, "deadline": f"{left:.1f}"}.items())))
    scratch = Path(tempfile.mkdtemp(prefix="conformance-task-", dir=scratch_root))
    try:
        spec = _materialise(task, scratch)
        outcome = Outcome(task, spec=spec if task.files else None)
        report_path, events, error = scratch / "report.json", scratch / "events.jsonl", scratch / "load-error.txt"
        from conformance.engine import runner

        options = {**task.option, "compilation_cache": task.option.get("compilation_cache") or cache}
        args = runner.pytest_args(
            impls=[spec], json_path=report_path, workers=task.workers, only=list(task.ids), **options
        )
        (scratch / "task.json").write_text(
            json.dumps({"target": spec, "args": args, "events": str(events), "error": str(error)})
        )
        (scratch / "work").mkdir()
        log = (scratch / "log.txt").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "conformance.engine.batch.task", str(scratch / "task.json")],
            cwd=scratch / "work",
            env=_environment(scratch, options["compilation_cache"]),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: the task and its workers end together
        )
        with _tracked(proc):
            _watch(task, proc, EventReader(events), outcome, on_event, poll)
        log.close()
        if error.exists():
            outcome.load_error = error.read_text().strip()
        elif report_path.exists():
            outcome.report = json.loads(report_path.read_text())
        if outcome.problem is None and outcome.load_error is None and proc.returncode not in (0, 1):
            tail = (scratch / "log.txt").read_text()[-2000:].strip()
            outcome.problem = f"the task's process ended with exit code {proc.returncode}" + (
                f": {tail.splitlines()[-1]}" if tail else ""
            )
        outcome.seconds = time.monotonic() - started
        return outcome
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _watch(
    task: Task,
    proc: subprocess.Popen,
    reader: EventReader,
    outcome: Outcome,
    on_event: Callable[[Task, dict[str, Any]], None] | None,
    poll: float,
) -> None:
    """Wait for the task, passing its events on; end it if it does not start, or outlives its bound."""
    begun = time.monotonic()
    start_limit = max(float(task.option.get("timeout", DEFAULT_TIMEOUT)), 0.0) + START_ALLOWANCE
    limit = bound(task)

    def handle(event: dict[str, Any]) -> None:
        if on_event is not None:
            on_event(task, event)

    while proc.poll() is None:
        time.sleep(poll)
        reader.poll(handle)
        elapsed = time.monotonic() - begun
        if not reader.started and elapsed > start_limit:
            outcome.problem = (
                f"the implementation did not finish loading within {start_limit:g} s "
                "(--timeout plus start-up): its import never returned, so no property ran"
            )
            outcome.problem_status = "timeout"
        elif limit and elapsed > limit:
            outcome.problem = f"the task ran past its bound of {limit:g} s and was ended"
            outcome.problem_status = "timeout"
        if outcome.problem:
            _end(proc)
            proc.wait()
            break
    reader.poll(handle)


def _end_with_parent() -> None:
    """End this task's process group once whoever started it is gone (a cluster worker that was stopped).

    The task runs in a session of its own, so nothing else would end it: it would
    run on, unobserved, to its own deadline.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="conformance-orphan-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """``python -m conformance.engine.batch.task SPEC``: the task's own process (its pytest controller)."""
    from conformance.engine import runner

    _end_with_parent()
    spec = json.loads(Path((argv or sys.argv[1:])[0]).read_text())
    try:
        # The implementation is not imported here: this process is the task's pytest controller, which writes
        # its report and checks its workers for tampering. The plugin describes the implementation from a
        # separate process; one that does not import is a usage error, one line, as in `conformance run`.
        return runner.run_catalogue(spec["args"], plugins=[EventWriter(spec["events"])])
    except runner.UsageError as exc:
        Path(spec["error"]).write_text(str(exc).removeprefix("cannot load implementation: ") + "\n")
        return runner.EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
