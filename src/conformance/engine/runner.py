"""Running the catalogue: the pytest command line, the worker count, and the exit codes.

Every command (``run``, ``mutants``, ``matrix``, the benchmark) runs the
catalogue through this module; none imports another command.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from conformance.engine.defaults import DEFAULT_TIMEOUT, DEFAULT_WORKERS
from conformance.engine.plugin.scheduling import xdist_args
from conformance.engine.plugin.timeouts import MARKERS_ENV
from conformance.engine.registry import properties_dir

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad command-line input or an unloadable implementation: reported as one line, exit 2."""


def parse_workers(value: str | int) -> int:
    """``--workers``: a count of worker processes, 0 for none (no crash isolation)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"--workers takes a number, got {value!r}") from None
    if n < 0:
        raise UsageError("--workers must be 0 or more")
    return n


def pytest_args(
    *,
    impls: list[str],
    profile: str,
    json_path: str | os.PathLike[str],
    workers: int = DEFAULT_WORKERS,
    timeout: float = DEFAULT_TIMEOUT,
    strict: bool = False,
    only: list[str] | None = None,
    kind: str | None = None,
    example: str | None = None,
    shrink: bool = True,
    compilation_cache: str | None = None,
    pool_seed: int | None = None,
    precision: str = "auto",
    emulate_precision: str | None = None,
    deadline: str = "auto",
    max_memory: float | None = None,
    skip_identical_to: str | None = None,
    only_declared: bool = False,
    max_examples: int | None = None,
    catalogue: str | os.PathLike[str] | None = None,
    isolate_calls: bool = False,
) -> list[str]:
    """The pytest arguments that run the catalogue (``catalogue``: its folder, default the installed one)."""
    args = [
        str(catalogue or properties_dir()),
        "-p",
        "no:cacheprovider",
        "--conformance-profile",
        profile,
        "--conformance-json",
        str(json_path),
        "--conformance-timeout",
        f"{timeout:g}",
        "--conformance-deadline",
        str(deadline),
    ]
    if max_memory is not None:
        args += ["--conformance-max-memory", f"{max_memory:g}"]
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
    if pool_seed is not None:
        args += ["--pool-seed", str(pool_seed)]
    if max_examples is not None:
        args += ["--max-examples", str(max_examples)]
    if skip_identical_to:
        args += ["--skip-identical-to", skip_identical_to]
    if only_declared:
        args.append("--only-declared")
    if isolate_calls:
        args.append("--isolate-calls")
    if precision != "auto":
        args += ["--precision", precision]
    if emulate_precision:
        args += ["--emulate-precision", emulate_precision]
    return args


def parse_deadline(value: str) -> str:
    """``--deadline``: seconds for the whole run, ``auto`` or 0 (none)."""
    if value != "auto":
        try:
            if float(value) < 0:
                raise ValueError
        except ValueError:
            raise UsageError(f"--deadline takes a number of seconds, auto or 0, got {value!r}") from None
    return value


# After an interrupt, seconds the run may take to stop its workers before it ends without them.
INTERRUPT_GRACE = 30.0


def _kill_children() -> None:
    """SIGKILL this process's children (Linux's /proc; elsewhere they end at their own timeout)."""
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[1] == me:
                os.kill(int(stat.parent.name), signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            continue


@contextlib.contextmanager
def _ends_after_interrupt(grace: float = INTERRUPT_GRACE):
    """An interrupt ends the run within ``grace`` seconds, even if a worker never stops.

    SIGINT raises KeyboardInterrupt as usual and pytest stops its workers; a worker
    stuck in the implementation can keep that from finishing, so a timer then ends
    the workers and the process. The JSON report, written after every result,
    stays as it was: partial.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def force_exit() -> None:
        print(
            f"conformance: interrupted; the workers did not stop within {grace:g} s and were ended",
            file=sys.__stderr__,
        )
        _kill_children()
        os._exit(EXIT_INTERRUPTED)

    def on_interrupt(signum: int, frame: Any) -> None:
        timer = threading.Timer(grace, force_exit)
        timer.daemon = True
        timer.start()
        signal.signal(signal.SIGINT, previous)  # a second Ctrl-C acts at once
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_catalogue(args_list: list[str], *, plugins: list[Any] = ()) -> int:
    """Run pytest in this process with its own output silenced (``plugins``: a progress display)."""
    import pytest

    os.environ[MARKERS_ENV] = tempfile.mkdtemp(prefix="conformance-timeouts-")
    sink, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(errors), _ends_after_interrupt():
        code = pytest.main([*args_list, "-q", "--no-header", "-rN"], plugins=list(plugins))
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        # A usage error (an implementation that does not load) is pytest's "ERROR: ..." line on stderr.
        text = (errors.getvalue() + "\n" + sink.getvalue()).strip().splitlines()
        line = next((t for t in text if t.startswith("ERROR:")), None) or next(
            (t for t in reversed(text) if "ERROR" in t or "error" in t), text[-1] if text else "pytest failed"
        )
        raise UsageError(line.replace("ERROR: ", ""))
    sys.stderr.write(errors.getvalue())
    return int(code)


def temporary_report_path() -> Path:
    return Path(tempfile.mkdtemp(prefix="conformance-"), "report.json")


def report_exit_code(report: dict[str, Any]) -> int:
    """0 when nothing failed, errored, timed out, crashed or was tampered; 1 otherwise; 130 for an interrupted run."""
    from conformance.engine.outcomes import BAD

    if report["partial"]:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if any(r["status"] in BAD for r in report["results"]) else EXIT_OK


def executed_any(report: dict[str, Any]) -> bool:
    """Whether the run executed at least one property (a ``not_provided`` executes nothing)."""
    from conformance.engine.outcomes import NOT_PROVIDED

    return any(r["status"] != NOT_PROVIDED for r in report["results"])


def why_nothing_ran(report: dict[str, Any], pytest_code: int, *, only: list[str] | None, kind: str | None) -> str:
    """One line saying why a run executed no property."""
    if report["results"]:
        return (
            "no property ran: the implementation provides none of the names the selected properties need "
            "(see `conformance list` for each property's needs)"
        )
    if pytest_code == 5 and (only or kind):
        return "no property ran: --only/--kind selected nothing"
    if pytest_code == 5:
        return f"no property ran: no property was collected from {properties_dir()}"
    return f"no property ran: pytest exited with code {pytest_code} before any verdict"
