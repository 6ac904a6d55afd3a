"""The pytest plugin: plugs an implementation into the property tests and records verdicts.

Registered through the ``pytest11`` entry point, so ``pytest --impl TARGET
properties/`` works as well as ``conformance run``. It is inert for test
modules that hold no registered property.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from conformance import registry
from conformance.expectations import divergence_for
from conformance.loading import Implementation, ImplementationRaised, LoadError, load_implementation
from conformance.outcomes import (
    CRASHED, ERROR, EXPECTED_DIVERGENCE, FAILED, NOT_PROVIDED, PASSED, TIMEOUT,
    PropertyTimeout, Result,
)
from conformance.profiles import PROFILES, load_profile
from conformance.report import RunReport
from conformance.versions import flax_version

DEFAULT_TIMEOUT = 120.0
# Past the timeout, a hang the signal cannot interrupt (inside native code)
# ends the worker after this grace; the controller still reports ``timeout``.
HARD_GRACE = 15.0
_USER_KEY = "conformance"
_TIMEOUT_MARKERS = "CONFORMANCE_TIMEOUT_MARKERS"


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("conformance", "flax-sharing-conformance")
    g.addoption("--impl", action="append", default=None, metavar="TARGET",
                help="implementation module (dotted name or .py path); repeatable. "
                     "Default: $CONFORMANCE_IMPL or implementations.reference")
    g.addoption("--conformance-profile", default="default", choices=PROFILES,
                help="Hypothesis profile (default: %(default)s)")
    g.addoption("--conformance-json", default=None, metavar="PATH",
                help="write the JSON report here (atomically; partial on interrupt)")
    g.addoption("--strict-contract", action="store_true",
                help="a property whose contract names are missing fails instead of not_provided")
    g.addoption("--conformance-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                help="seconds per property before it is stopped as timeout (0: none)")
    g.addoption("--only", action="append", default=None, metavar="ID",
                help="run only this property id (repeatable; a trailing * matches a prefix)")
    g.addoption("--kind", choices=("implementation", "framework"), default=None,
                help="run only properties of this kind")
    g.addoption("--no-shrink", action="store_true",
                help="report the first failing example as found (for kill matrices)")
    g.addoption("--example", default=None, metavar="JSON",
                help="replay exactly this input (a JSON object) instead of generating")
    g.addoption("--flax-mutant", default=None, metavar="MODULE",
                help="patch Flax with this module's patch(mp) first (implementations/flax_mutants)")
    g.addoption("--compilation-cache", default=None, metavar="DIR",
                help="keep compiled XLA programs in DIR and reuse them in later runs (default: none)")


# --------------------------------------------------------------------------- setup

_impls_key = pytest.StashKey[list]()
_report_key = pytest.StashKey[RunReport]()
_flax_patch_key = pytest.StashKey[pytest.MonkeyPatch]()


def _patch_flax(target: str) -> pytest.MonkeyPatch:
    """Apply a Flax mutant (implementations/flax_mutants) to this process."""
    import importlib

    try:
        module = importlib.import_module(target)
        patch = module.patch
    except (ImportError, AttributeError) as exc:
        raise pytest.UsageError(f"--flax-mutant {target}: {exc}") from None
    mp = pytest.MonkeyPatch()
    patch(mp)
    return mp


def pytest_unconfigure(config: pytest.Config) -> None:
    mp = config.stash.get(_flax_patch_key, None)
    if mp is not None:
        mp.undo()


def _targets(config: pytest.Config) -> list[str]:
    return config.getoption("impl") or [os.environ.get("CONFORMANCE_IMPL") or "implementations.reference"]


@pytest.hookimpl(trylast=True)  # after Hypothesis' own plugin, which loads its default profile
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: a registered conformance property")
    if config.getoption("flax_mutant"):  # before anything below builds a Flax module
        config.stash[_flax_patch_key] = _patch_flax(config.getoption("flax_mutant"))
    if config.getoption("example"):
        load_profile("replay")
    else:
        load_profile(config.getoption("conformance_profile"), shrink=not config.getoption("no_shrink"))
    if config.getoption("compilation_cache"):
        from conformance.compiled import persist_compilations

        persist_compilations(config.getoption("compilation_cache"))
    impls = []
    for target in _targets(config):
        try:
            impls.append(load_implementation(target))
        except LoadError as exc:
            raise pytest.UsageError(f"cannot load implementation: {exc}") from None
    config.stash[_impls_key] = impls
    if not hasattr(config, "workerinput"):
        run = RunReport.start(impls, profile=config.getoption("conformance_profile"),
                              json_path=config.getoption("conformance_json"))
        config.stash[_report_key] = run
        config.pluginmanager.register(Recorder(run), "conformance-recorder")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if registry.property_of(metafunc.function) is None:
        return
    if "impl" in metafunc.fixturenames:
        impls = metafunc.config.stash[_impls_key]
        metafunc.parametrize("impl", impls, ids=[i.name for i in impls])


def _selected(prop: registry.Property, config: pytest.Config) -> bool:
    kind = config.getoption("kind")
    if kind and prop.kind != kind:
        return False
    only = config.getoption("only")
    if not only:
        return True
    return any(prop.id == o or (o.endswith("*") and prop.id.startswith(o[:-1])) for o in only)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        prop = registry.property_of(getattr(item, "function", None))
        (dropped if prop is not None and not _selected(prop, config) else kept).append(item)
        if prop is not None:
            item.add_marker(pytest.mark.xdist_group(_group(prop, item, config.stash[_impls_key])))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def xdist_args(workers: int) -> list[str]:
    """pytest-xdist options for ``workers`` worker processes (none for 0: run in this process).

    A crashed worker is replaced and the run goes on; properties run in the
    groups :func:`_group` gives them.
    """
    if workers <= 0:
        return []
    return ["-n", str(workers), "--dist", "loadgroup", "--max-worker-restart", "100"]


def _group(prop: registry.Property, item: pytest.Item, impls: list[Implementation]) -> str:
    """The xdist work unit (--dist loadgroup) a property runs in.

    Compilation caches are per process. The properties of one document call the
    same compiled programs (the document's constructions, the implementation's
    functions at each pool shape), so one worker runs them all and compiles each
    program once instead of once per worker. With several implementations
    plugged in (`conformance mutants`) each gets its own groups; framework
    properties join the first implementation's, the only one in a usual run.
    """
    impl = item.callspec.params.get("impl") if hasattr(item, "callspec") else None
    if impl is None and impls:
        impl = impls[0]
    return f"{prop.document}-{impl.name if impl is not None else 'flax'}"


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem: str, report: pytest.TestReport, sched: Any) -> None:
    """Never hand a property that killed its worker to the replacement worker.

    xdist's group scheduler puts the crashed test back with the rest of its
    group, so it would crash every new worker in turn. Taking it out lets the
    replacement run the rest of the group; a group left empty is dropped, since
    a worker handed nothing to run never reports back. (Plain load scheduling
    drops the crashed test itself and has no work queue.)
    """
    queue = getattr(sched, "workqueue", {})
    for group, unit in list(queue.items()):
        if unit.pop(crashitem, None) is not None and not any(not done for done in unit.values()):
            del queue[group]


# --------------------------------------------------------------------------- running

def pytest_runtest_setup(item: pytest.Item) -> None:
    prop = registry.property_of(getattr(item, "function", None))
    if prop is None or prop.kind != "implementation":
        return
    impl = item.callspec.params.get("impl") if hasattr(item, "callspec") else None
    missing = [n for n in prop.needs if impl is not None and not impl.provides(n)]
    if missing:
        if item.config.getoption("strict_contract"):
            pytest.fail(f"not_provided: {', '.join(missing)} (required by --strict-contract)", pytrace=False)
        pytest.skip(f"not_provided: {', '.join(missing)}")


def _arm_timeout(seconds: float, nodeid: str) -> tuple[Any, threading.Timer | None]:
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        return None, None

    def raise_timeout(signum: int, frame: Any) -> None:
        raise PropertyTimeout(f"still running after --timeout {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)

    def hard_exit() -> None:
        marker_dir = os.environ.get(_TIMEOUT_MARKERS)
        if marker_dir:
            Path(marker_dir, _marker_name(nodeid)).write_text(str(seconds))
        os._exit(70)

    watchdog = threading.Timer(seconds + HARD_GRACE, hard_exit)
    watchdog.daemon = True
    watchdog.start()
    return previous, watchdog


def _marker_name(nodeid: str) -> str:
    import hashlib

    return hashlib.sha1(nodeid.encode()).hexdigest()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    prop = registry.property_of(getattr(item, "function", None))
    if prop is None:
        yield
        return
    log = registry.reset_log()
    impl = item.callspec.params.get("impl") if hasattr(item, "callspec") else None
    impl_before = impl.call_seconds if impl is not None else 0.0
    previous, watchdog = _arm_timeout(item.config.getoption("conformance_timeout"), item.nodeid)
    try:
        yield
    finally:
        if watchdog is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            watchdog.cancel()
        log.extra["impl_seconds"] = (impl.call_seconds - impl_before) if impl is not None else 0.0


def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """With ``--example``, call the property body once on exactly that input."""
    raw = pyfuncitem.config.getoption("example")
    if raw is None or registry.property_of(pyfuncitem.function) is None:
        return None
    example = json.loads(raw)
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames
            if name in pyfuncitem.funcargs}
    pyfuncitem.function.hypothesis.inner_test(**args, **example)
    return True


# --------------------------------------------------------------------------- verdicts

def _first(exc: BaseException) -> BaseException:
    """The first of several failures Hypothesis may report together."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _classify(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    exc = _first(excinfo.value)
    if isinstance(exc, PropertyTimeout):
        return TIMEOUT
    if isinstance(exc, ImplementationRaised):
        return ERROR
    if isinstance(exc, AssertionError):
        return FAILED
    return ERROR


def _exception_text(exc: BaseException) -> str:
    exc = _first(exc)
    if isinstance(exc, (AssertionError, ImplementationRaised, PropertyTimeout)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _reproduce(item: pytest.Item, prop: registry.Property, impl: Any, inputs: dict | None) -> str:
    parts = ["conformance run"]
    if impl is not None:
        parts.append(f"--impl {impl.target}")
    parts.append(f"--only {prop.id}")
    if inputs:
        parts.append("--example '" + json.dumps(inputs, sort_keys=True, default=str) + "'")
    return " ".join(parts)


def compose_message(prop: registry.Property, body: str, inputs: dict | None, reproduce: str) -> str:
    shown = ", ".join(f"{k}={v!r}" for k, v in sorted((inputs or {}).items())) or "(none recorded)"
    return (
        f"[{prop.id}] document {prop.document}, section '{prop.section}': {prop.title}\n"
        f"inputs (shrunk): {shown}\n"
        f"{body}\n"
        f"what to check: {prop.hint}\n"
        f"reproduce: {reproduce}"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    prop = registry.property_of(getattr(item, "function", None))
    if prop is None or call.when == "teardown":
        return
    impl = item.callspec.params.get("impl") if hasattr(item, "callspec") else None
    log = registry.CURRENT
    result = Result(id=prop.id, document=prop.document, kind=prop.kind, title=prop.title,
                    status=PASSED, implementation=impl.name if impl is not None else None,
                    seconds=round(call.duration, 4))
    if call.when == "setup":
        if report.passed:
            return
        if report.skipped and call.excinfo is not None and "not_provided" in str(call.excinfo.value):
            result.status = NOT_PROVIDED
            result.message = str(call.excinfo.value).replace("Skipped: ", "")
        else:
            result.status = FAILED if call.excinfo and "not_provided" in str(call.excinfo.value) else ERROR
            result.message = str(call.excinfo.value) if call.excinfo else "setup failed"
    else:  # call
        result.examples = log.examples
        result.impl_seconds = round(log.extra.get("impl_seconds", 0.0), 4)
        divergence = divergence_for(prop.id, flax_version()) if prop.kind == "framework" else None
        if call.excinfo is None:
            if divergence is not None:
                result.status = FAILED
                result.message = (f"[{prop.id}] expected to diverge on flax {flax_version()} "
                                  f"({divergence.flax}) but the claim held: narrow the range in "
                                  f"properties/expectations.toml. Listed reason: {divergence.reason}")
                report.outcome = "failed"
                report.longrepr = result.message
        else:
            result.status = _classify(call.excinfo)
            result.inputs = log.failing_inputs
            result.reproduce = _reproduce(item, prop, impl, log.failing_inputs)
            result.message = compose_message(prop, _exception_text(call.excinfo.value),
                                             log.failing_inputs, result.reproduce)
            if divergence is not None and result.status in (FAILED, ERROR):
                result.status = EXPECTED_DIVERGENCE
                result.message = f"known divergence on flax {flax_version()}: {divergence.reason}\n{result.message}"
                report.outcome = "skipped"
                report.wasxfail = divergence.reason  # shown by pytest as xfailed
            elif result.status == FAILED:
                report.longrepr = result.message
            else:
                report.longrepr = f"{result.message}\n\n{report.longrepr}"
    report.user_properties.append((_USER_KEY, json.dumps(result.as_dict(), default=str)))


# --------------------------------------------------------------------------- controller

def _result_from_report(report: pytest.TestReport) -> Result | None:
    for key, value in report.user_properties:
        if key == _USER_KEY:
            return Result(**json.loads(value))
    return None


def _without_group(nodeid: str) -> str:
    """The node id without the ``@group`` suffix that xdist's loadgroup appends."""
    return nodeid[:nodeid.rindex("@")] if nodeid.rfind("@") > nodeid.rfind("]") else nodeid


def _crash_result(report: pytest.TestReport) -> Result | None:
    """A worker died while running a property (no user properties came back)."""
    text = str(report.longrepr or "")
    if "crashed while running" not in text and "worker" not in text:
        return None
    module_path, _, rest = _without_group(report.nodeid).partition("::")
    name, _, param = rest.partition("[")
    props = registry.discover()
    module = module_path.removesuffix(".py").replace("/", ".")
    for prop in props.values():
        if prop.module.endswith(module.split(".")[-1]) and prop.qualname == name:
            status, message = CRASHED, f"the worker process died while running {prop.id}: {text.strip().splitlines()[-1] if text.strip() else ''}"
            marker_dir = os.environ.get(_TIMEOUT_MARKERS)
            if marker_dir and Path(marker_dir, _marker_name(report.nodeid)).exists():
                status = TIMEOUT
                message = f"[{prop.id}] hung inside native code past --timeout; the worker was stopped"
            return Result(id=prop.id, document=prop.document, kind=prop.kind, title=prop.title,
                          status=status, message=message, implementation=param.rstrip("]") or None)
    return None


class Recorder:
    """Controller-side: gathers every verdict and writes the report when the session ends."""

    def __init__(self, run: RunReport):
        self.run = run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = _result_from_report(report)
        if result is None and report.failed:
            result = _crash_result(report)
        if result is not None:
            self.run.add(result, nodeid=report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.run.finish(partial=exitstatus == pytest.ExitCode.INTERRUPTED)


# --------------------------------------------------------------------------- measurement

COMPILE_COUNT_ENV = "CONFORMANCE_COMPILE_COUNT_DIR"
_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
_CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"


class CompileCounter:
    """Counts XLA compilations in this process through jax.monitoring, in all and per test.

    JAX reports a program loaded from the persistent compilation cache as a
    backend compilation too; those are counted apart, as cache hits. Writes
    ``<pid>.json`` into ``directory`` at the end of the session:
    ``{"compiles", "compile_seconds", "cache_hits", "by_test": {nodeid: compiles}}``.
    """

    def __init__(self, directory: str):
        import jax.monitoring

        self.directory = directory
        self.backend, self.hits, self.seconds = 0, 0, 0.0
        self.by_test: dict[str, int] = {}
        jax.monitoring.register_event_duration_secs_listener(self._on_duration)
        jax.monitoring.register_event_listener(self._on_event)

    @property
    def count(self) -> int:
        return self.backend - self.hits

    def _on_duration(self, event: str, duration: float, **kwargs: Any) -> None:
        if event == _COMPILE_EVENT:
            self.backend += 1
            self.seconds += duration

    def _on_event(self, event: str, **kwargs: Any) -> None:
        if event == _CACHE_HIT_EVENT:
            self.hits += 1

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        before = self.count
        yield
        self.by_test[item.nodeid] = self.count - before

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        figures = {"compiles": self.count, "compile_seconds": self.seconds, "cache_hits": self.hits,
                   "by_test": self.by_test}
        Path(self.directory, f"{os.getpid()}.json").write_text(json.dumps(figures, indent=1))


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    directory = os.environ.get(COMPILE_COUNT_ENV)
    if directory and not session.config.pluginmanager.has_plugin("conformance-compile-counter"):
        session.config.pluginmanager.register(CompileCounter(directory), "conformance-compile-counter")
