"""``conformance matrix``: the whole catalogue against several Flax releases.

Each release gets its own environment, built with uv from one table,
``src/conformance/compat.toml`` (flax version -> jax/jaxlib pair), plus the
suite's runtime dependencies pinned from ``requirements.lock``. The project is
not installed there: the checkout's ``src/`` and root go on ``PYTHONPATH``, so
editing a property never invalidates an environment. Environments are cached
under ``.conformance/envs/flax-X-jax-J/`` and reused while their stamp (a hash
of the interpreter and the pinned requirement set) matches.

In each environment pytest runs the framework properties and the reference
implementation's properties with the ``ci`` profile; the per-release JSON
reports are merged into one matrix (see :mod:`conformance.matrix_render`).

Exit status: 0 when every divergence is an expected one, 1 when any release
shows a regression (failed, error, crashed, timeout), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

from conformance.outcomes import BAD, CRASHED, ERROR, STATUSES, TIMEOUT
from conformance.profiles import PROFILES
from conformance.pytest_plugin import DEFAULT_TIMEOUT, xdist_args

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2
# The suite's runtime dependencies; their versions come from requirements.lock.
RUNTIME_DEPS = ("numpy", "hypothesis", "pytest", "pytest-xdist", "chex", "rich")
COMPAT_FILE = "src/conformance/compat.toml"
STAMP = ".conformance-stamp.json"
DEFAULT_RELEASE_TIMEOUT = 3600.0


class UsageError(Exception):
    """A problem with the command line or the compat table; the message is one line."""


class BuildError(Exception):
    """uv could not build a release's environment."""


# --------------------------------------------------------------------------- the compat table

@dataclass(frozen=True)
class Pair:
    flax: str
    jax: str
    jaxlib: str
    pins: tuple[str, ...] = ()
    note: str = ""


def parse_compat(text: str) -> dict[str, Pair]:
    data = tomllib.loads(text)
    table = {}
    for version, entry in data.get("flax", {}).items():
        missing = {"jax", "jaxlib"} - entry.keys()
        if missing:
            raise UsageError(f"{COMPAT_FILE}: [flax.\"{version}\"] lacks {', '.join(sorted(missing))}")
        table[version] = Pair(flax=version, jax=str(entry["jax"]), jaxlib=str(entry["jaxlib"]),
                              pins=tuple(entry.get("pins", ())), note=str(entry.get("note", "")))
    return table


def load_compat() -> dict[str, Pair]:
    return parse_compat(resources.files("conformance").joinpath("compat.toml").read_text())


def missing_pair_message(version: str, known: list[str]) -> str:
    return (f"no jax/jaxlib pair for flax {version} in {COMPAT_FILE}: add a [flax.\"{version}\"] table "
            f"with jax = \"...\" and jaxlib = \"...\" (optional: pins = [...], note = \"...\"), "
            f"then check it with `conformance matrix --flax {version}`; known releases: "
            f"{', '.join(known) or 'none'}")


def pairs_for(versions: list[str], table: dict[str, Pair]) -> list[Pair]:
    for version in versions:
        if version not in table:
            raise UsageError(missing_pair_message(version, list(table)))
    return [table[v] for v in dict.fromkeys(versions)]


# --------------------------------------------------------------------------- requirements and cache key

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    m = _NAME.match(requirement)
    if not m:
        raise UsageError(f"{COMPAT_FILE}: cannot read the requirement {requirement!r}")
    return canonical(m.group(1))


def lock_pins(lock_text: str) -> dict[str, str]:
    """``name==version`` lines of a uv/pip-compile lock file, by canonical name."""
    pins = {}
    for line in lock_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            pins[requirement_name(line)] = line.replace(" ", "")
    return pins


def requirements(pair: Pair, lock: dict[str, str]) -> list[str]:
    """The pinned requirement set of one release's environment (sorted, deterministic)."""
    reqs = {"flax": f"flax=={pair.flax}", "jax": f"jax=={pair.jax}", "jaxlib": f"jaxlib=={pair.jaxlib}"}
    for dep in RUNTIME_DEPS:
        reqs[canonical(dep)] = lock.get(canonical(dep), dep)
    for pin in pair.pins:  # a pin from compat.toml replaces the lock's pin of that package
        reqs[requirement_name(pin)] = pin
    return sorted(reqs.values(), key=requirement_name)


# How build_env installs; part of the cache key, so that a changed recipe rebuilds.
INSTALL_OPTIONS = ("--compile-bytecode",)  # as in the Makefile: .pyc files are never written later where
                                           # PYTHONDONTWRITEBYTECODE is set, and each worker would compile jax


def cache_key(reqs: list[str], python: str) -> str:
    blob = json.dumps({"python": python, "requirements": sorted(reqs), "install": INSTALL_OPTIONS}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def env_name(pair: Pair) -> str:
    return f"flax-{pair.flax}-jax-{pair.jax}"


# --------------------------------------------------------------------------- environments

def repo_root() -> Path:
    root = Path(__file__).resolve().parents[2]
    if not (root / "properties" / "__init__.py").is_file() or not (root / "src" / "conformance").is_dir():
        raise UsageError(f"conformance matrix runs from a source checkout; {root} has no properties/ and src/conformance/")
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
            raise UsageError(f"--python {request}: uv finds no such interpreter ({_last_line(found.stderr)})")
        path = found.stdout.strip()
    probe = subprocess.run([path, "-c", "import platform as p; print(p.python_implementation(), "
                                        "p.python_version(), p.machine())"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise UsageError(f"--python {path}: cannot run it ({_last_line(probe.stderr)})")
    return path, probe.stdout.strip()


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def _failure_line(output: str, limit: int = 400) -> str:
    """The most telling line of a failed pytest run: its last ``SomeError: ...`` line, else its last line."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip() and not ln.startswith("$ ")]
    errors = [ln for ln in lines if re.match(r"^(E\s+)?[\w.]*(Error|Exception|Exit|Interrupted)\b", ln)]
    line = (errors or lines or ["no output"])[-1]
    line = re.sub(r"^E\s+", "", line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _uv_error(text: str, limit: int = 1200) -> str:
    """uv's error report on one line, without its box-drawing decoration."""
    lines = [re.sub(r"^[\s×╰─▶│├]+", "", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("Using ", "Creating ", "Activate "))]
    msg = " ".join(lines) or "uv failed without a message"
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
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


def build_env(uv: str, python: str, env: Path, reqs: list[str], key: str, log: Path) -> None:
    """(Re)create ``env`` with exactly ``reqs``; the stamp is written last, so a torn build is never reused."""
    shutil.rmtree(env, ignore_errors=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    quiet = os.environ.copy()
    quiet.pop("VIRTUAL_ENV", None)
    with open(log, "w") as out:
        for step in ([uv, "venv", "--no-project", "--python", python, str(env)],
                     [uv, "pip", "install", *INSTALL_OPTIONS, "--python", str(env / "bin" / "python"), *reqs]):
            out.write(f"$ {' '.join(step)}\n")
            out.flush()
            done = subprocess.run(step, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=quiet)
            out.write(done.stdout)
            if done.returncode != 0:
                raise BuildError(f"`uv {step[1]}{' install' if step[1] == 'pip' else ''}` failed "
                                 f"(log: {log}): {_uv_error(done.stdout)}")
        freeze = subprocess.run([uv, "pip", "freeze", "--python", str(env / "bin" / "python")],
                                capture_output=True, text=True, env=quiet).stdout.split()
    stamp = {"key": key, "requirements": reqs, "installed": freeze, "built": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (env / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")


# --------------------------------------------------------------------------- running one release

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
    import importlib
    import pkgutil

    try:
        import properties
        from conformance import registry
    except Exception:  # noqa: BLE001 - the releases' own runs still report what they can
        return []
    for info in pkgutil.iter_modules(properties.__path__):
        if info.name.startswith("test_"):
            try:  # one module that does not import here must not hide the others
                importlib.import_module(f"properties.{info.name}")
            except Exception:  # noqa: BLE001
                continue
    out = []
    for p in sorted(registry.REGISTRY.values(), key=lambda p: (p.document, p.id)):
        if only and not any(p.id == o or (o.endswith("*") and p.id.startswith(o[:-1])) for o in only):
            continue
        out.append(Expected(p.id, p.title, p.kind, p.document, p.module))
    return out


def plugin_autoloads(python: Path, run_env: dict[str, str]) -> bool:
    """Whether pytest in ``python`` already finds the plugin through its ``pytest11`` entry point.

    It does when the checkout holds an ``*.egg-info`` from an editable install
    (the checkout root is on PYTHONPATH); naming it with ``-p`` as well would
    register it twice.
    """
    probe = ("from importlib.metadata import entry_points as e; "
             "print(any(p.name == 'conformance' for p in e(group='pytest11')))")
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, env=run_env)
    return done.stdout.strip() == "True"


def pytest_command(python: Path, root: Path, args: argparse.Namespace, json_path: Path,
                   autoload: bool = False) -> list[str]:
    cmd = [str(python), "-m", "pytest", str(root / "properties"),
           *([] if autoload else ["-p", "conformance.pytest_plugin"]), "-p", "no:cacheprovider",
           "--conformance-profile", args.profile, "--impl", args.impl,
           "--conformance-json", str(json_path), "--conformance-timeout", f"{args.timeout:g}",
           "--continue-on-collection-errors", "-rfE", "--tb=short", "-q"]
    cmd += xdist_args(args.workers or 0)
    for only in args.only or ():
        cmd += ["--only", only]
    return cmd


def _collection_errors(output: str) -> dict[str, str]:
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


def run_properties(env: Path, root: Path, args: argparse.Namespace, log: Path,
                   on_progress: Callable[[int], None]) -> tuple[dict[str, Any] | None, int | None, str]:
    """Run pytest in ``env``; (its JSON report or None, exit code or None on timeout, its output)."""
    with tempfile.TemporaryDirectory(prefix="conformance-matrix-") as tmp:
        json_path = Path(tmp, "report.json")
        markers = Path(tmp, "timeouts")
        markers.mkdir()
        run_env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
        run_env.update(PYTHONPATH=os.pathsep.join([str(root / "src"), str(root)]),
                       CONFORMANCE_TIMEOUT_MARKERS=str(markers), PYTHONDONTWRITEBYTECODE="1")
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w") as out:
            python = env / "bin" / "python"
            cmd = pytest_command(python, root, args, json_path, plugin_autoloads(python, run_env))
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            # cwd is scratch: Hypothesis and pytest leave nothing in the checkout.
            proc = subprocess.Popen(cmd, cwd=tmp, env=run_env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
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


def _result(r: dict[str, Any]) -> dict[str, Any]:
    return {"id": r["id"], "title": r.get("title", ""), "status": r["status"], "message": r.get("message") or "",
            "kind": r.get("kind", ""), "document": r.get("document", ""), "inputs": r.get("inputs")}


def release_results(expected: list[Expected], report: dict[str, Any] | None, rc: int | None,
                    output: str, timeout: float) -> list[dict[str, Any]]:
    """The report's results, plus a verdict for every expected property the run did not report."""
    got = [_result(r) for r in (report or {}).get("results", [])]
    seen = {r["id"] for r in got}
    errors = _collection_errors(output)
    tail = _failure_line(output)
    for e in expected:
        if e.id in seen:
            continue
        stem = e.module.rsplit(".", 1)[-1]
        # Run-level messages name no property, so that the reports show them once.
        if rc is None:
            status, message = TIMEOUT, f"not reached: the release's run exceeded --release-timeout {timeout:g} s"
        elif stem in errors:
            status, message = ERROR, f"properties/{stem}.py cannot be collected on this release: {errors[stem]}"
        elif rc < 0:
            status, message = CRASHED, f"not reached: pytest died with signal {-rc}"
        else:
            status, message = ERROR, f"not reported: pytest exited with code {rc}: {tail}"
        got.append({"id": e.id, "title": e.title, "status": status, "message": message,
                    "kind": e.kind, "document": e.document, "inputs": None})
    order = {e.id: i for i, e in enumerate(expected)}
    got.sort(key=lambda r: (order.get(r["id"], len(order)), r["document"], r["id"]))
    return got


def summarize(results: list[dict[str, Any]]) -> dict[str, int]:
    counts = {s: 0 for s in STATUSES}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def regressions(matrix: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(flax version, result) for every verdict not covered by expectations."""
    return [(v["flax"], r) for v in matrix["versions"] for r in v["results"] if r["status"] in BAD]


def exit_code(matrix: dict[str, Any]) -> int:
    return EXIT_REGRESSION if regressions(matrix) else EXIT_OK


# --------------------------------------------------------------------------- the command

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flax", nargs="+", required=True, metavar="V",
                        help=f"Flax releases to test; each needs a jax/jaxlib pair in {COMPAT_FILE}")
    parser.add_argument("--json", metavar="PATH", help="write the matrix as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the matrix as Markdown")
    parser.add_argument("--html", metavar="PATH", help="write the matrix as one static HTML page")
    parser.add_argument("--impl", default="implementations.reference", metavar="TARGET",
                        help="implementation whose properties run in each release (default: %(default)s)")
    parser.add_argument("--profile", default="ci", choices=PROFILES, help="Hypothesis profile (default: %(default)s)")
    parser.add_argument("--only", action="append", metavar="ID",
                        help="run only this property id (repeatable; a trailing * matches a prefix)")
    parser.add_argument("-n", "--workers", type=int, default=2, metavar="N",
                        help="pytest-xdist workers per release (default: %(default)s; 0 runs in one process, "
                             "without crash isolation)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                        help="seconds per property before it is stopped (default: %(default)g)")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="where environments are kept (default: <checkout>/.conformance/envs)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild environments even if cached")
    parser.add_argument("--python", metavar="PY", help="interpreter for the environments (default: this one)")
    parser.add_argument("--uv", metavar="PATH", help="uv executable (default: the one beside this Python, then PATH)")
    parser.add_argument("--release-timeout", type=float, default=DEFAULT_RELEASE_TIMEOUT, metavar="S",
                        help="seconds for one release's whole run (default: %(default)g)")


def _check_args(args: argparse.Namespace) -> None:
    if args.workers < 0:
        raise UsageError("--workers must be >= 0")
    if args.release_timeout <= 0 or args.timeout < 0:
        raise UsageError("--release-timeout must be > 0 and --timeout >= 0")


def run_release(pair: Pair, *, root: Path, cache: Path, uv: str, python: str, python_id: str,
                 lock: dict[str, str], expected: list[Expected], args: argparse.Namespace,
                 phase: Callable[[str, int | None], None]) -> dict[str, Any]:
    """Build (or reuse) one release's environment, run the catalogue there, return its matrix column."""
    start = time.monotonic()
    reqs = requirements(pair, lock)
    key = cache_key(reqs, python_id)
    env = cache / env_name(pair)
    column: dict[str, Any] = {"flax": pair.flax, "jax": pair.jax, "jaxlib": pair.jaxlib, "python": python_id,
                              "note": pair.note, "requirements": reqs, "env_cached": True}
    with _locked(cache / f".{env_name(pair)}.lock"):
        if args.rebuild or not env_is_current(env, key):
            column["env_cached"] = False
            phase("building environment", None)
            t = time.monotonic()
            try:
                build_env(uv, python, env, reqs, key, cache / "logs" / f"{env_name(pair)}.build.log")
            except BuildError as exc:
                column["build_seconds"] = round(time.monotonic() - t, 1)
                column["results"] = [{"id": e.id, "title": e.title, "status": ERROR, "kind": e.kind,
                                      "document": e.document, "inputs": None,
                                      "message": f"no environment for flax {pair.flax}: {exc}"}
                                     for e in expected]
                column["summary"] = summarize(column["results"])
                column["seconds"] = round(time.monotonic() - start, 1)
                return column
            column["build_seconds"] = round(time.monotonic() - t, 1)
        phase("running properties", 0)
        report, rc, output = run_properties(env, root, args, cache / "logs" / f"{env_name(pair)}.pytest.log",
                                            lambda n: phase("running properties", n))
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

    from conformance import matrix_render

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
        tasks = {p.flax: progress.add_task(f"flax {p.flax} · jax {p.jax}", total=len(expected) or None,
                                           phase="queued") for p in pairs}
        for pair in pairs:
            task = tasks[pair.flax]

            def phase(text: str, done: int | None, task: Any = task) -> None:
                progress.update(task, phase=text, **({"completed": done} if done is not None else {}))

            column = run_release(pair, root=root, cache=cache, uv=uv, python=python, python_id=python_id,
                                  lock=lock, expected=expected, args=args, phase=phase)
            matrix["versions"].append(column)
            bad = sum(column["summary"].get(s, 0) for s in BAD)
            done = (f"[{'red' if bad else 'green'}]{matrix_render.counts_text(column['summary'])}[/] "
                    f"({column['seconds']:.0f} s{', cached env' if column['env_cached'] else ''})")
            progress.update(task, completed=len(column["results"]), total=len(column["results"]) or 1, phase=done)
            if not console.is_terminal:  # no live display: one line per release instead
                console.print(f"flax {pair.flax} · jax {column['jax']}: {done}", highlight=False, soft_wrap=True)
    matrix["seconds"] = round(time.monotonic() - started, 1)
    matrix["regressions"] = len(regressions(matrix))

    out = Console() if Console().is_terminal else Console(width=max(100, 48 + 16 * len(pairs)))
    for renderable in matrix_render.terminal(matrix):
        out.print(renderable)
    written = []
    if args.json:
        _write_text(args.json, json.dumps(matrix, indent=2, default=str) + "\n")
        written.append(args.json)
    for path, build in ((args.markdown, matrix_render.markdown), (args.html, matrix_render.html)):
        if path:
            _write_text(path, build(matrix))
            written.append(path)
    for path in written:
        out.print(f"wrote {path}", highlight=False)
    return exit_code(matrix)


def _write_text(path: str, text: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, target)


def _progress(console: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=24),
                    MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[phase]}"),
                    console=console, disable=not console.is_terminal)


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
