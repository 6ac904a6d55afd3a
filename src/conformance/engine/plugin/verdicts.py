"""Turning a property's outcome into a verdict and a message that stands on its own.

Runs in the worker: the verdict travels to the controller as a user property
of pytest's report (:data:`USER_KEY`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.engine import registry
from conformance.engine.expectations import divergence_for
from conformance.engine.loading import ImplementationRaised
from conformance.engine.outcomes import (
    CRASHED,
    ERROR,
    EXPECTED_DIVERGENCE,
    FAILED,
    NOT_PROVIDED,
    PASSED,
    TIMEOUT,
    ImplementationDied,
    PropertyTimeout,
    Result,
    ShrinkStopped,
)
from conformance.engine.plugin.memory_limit import OOM_SEEN, out_of_memory
from conformance.engine.plugin.memory_limit import describe as describe_oom
from conformance.engine.plugin.scheduling import impl_of
from conformance.engine.plugin.stash import POOL_SEED
from conformance.engine.versions import flax_version
from conformance.kit import assertions

USER_KEY = "conformance"


def pytest_runtest_setup(item: pytest.Item) -> None:
    prop = registry.property_of(getattr(item, "function", None))
    if prop is None or prop.kind != "implementation":
        return
    impl = impl_of(item)
    missing = [impl.why_missing(n) for n in prop.needs if impl is not None and not impl.provides(n)]
    if impl is not None and not missing:
        supported = impl.share_modes()
        missing = [
            f"SharedTransformer(share={m!r}) (SHARE_MODES = {supported!r})" for m in prop.modes if m not in supported
        ]
    if missing:
        if item.config.getoption("strict_contract"):
            pytest.fail(f"not_provided: {', '.join(missing)} (required by --strict-contract)", pytrace=False)
        pytest.skip(f"not_provided: {', '.join(missing)}")


def _first(exc: BaseException) -> BaseException:
    """The first of several failures Hypothesis may report together."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _classify_exception(exc: BaseException) -> str:
    exc = _first(exc)
    if isinstance(exc, PropertyTimeout):
        return TIMEOUT
    if out_of_memory(exc) or isinstance(exc, ImplementationDied):
        return CRASHED
    if isinstance(exc, ImplementationRaised):
        return ERROR
    if isinstance(exc, AssertionError):
        return FAILED
    return ERROR


def _exception_text(exc: BaseException) -> str:
    exc = _first(exc)
    if out_of_memory(exc):
        return describe_oom(exc)
    if isinstance(exc, (AssertionError, ImplementationRaised, PropertyTimeout)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _reproduce(item: pytest.Item, prop: registry.Property, impl: Any, inputs: dict | None) -> str:
    parts = ["conformance run"]
    if impl is not None:
        parts.append(f"--impl {impl.target}")
    parts.append(f"--only {prop.id}")
    parts.append(f"--pool-seed {item.config.stash[POOL_SEED]}")
    if inputs:
        parts.append("--example '" + json.dumps(inputs, sort_keys=True, default=str) + "'")
    return " ".join(parts)


def unmet_big_values(test: Any, shapes: set[tuple]) -> list[str]:
    """The big values of the run's pool that ``test`` draws but none of its examples met, as ``name=value``.

    Each is met by an explicit example (kit.strategies.add_big_examples); one that assume() rejected (no
    draw clear of relu's kink, a share mode the implementation lacks) is left unmet, and a passing verdict
    then says less than it seems to. Reported, not failed: a rejection can be legitimate.
    """
    from conformance.kit.pools import current_pool

    given = getattr(getattr(test, "hypothesis", None), "_given_kwargs", None) or {}
    pool = current_pool()
    if pool.free:
        return []
    met = {pair for shape in shapes for pair in shape}
    return [
        f"{name}={value}"
        for name, s in given.items()
        if name in registry.SIZE_ARGS and hasattr(s, "conformance_big")
        for value in s.conformance_big(pool)
        if (name, registry._hashable(value)) not in met
    ]


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
    impl = impl_of(item)
    log = registry.CURRENT
    result = Result(
        id=prop.id,
        document=prop.document,
        kind=prop.kind,
        title=prop.title,
        status=PASSED,
        implementation=impl.name if impl is not None else None,
        seconds=round(call.duration, 4),
    )
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
        audit = assertions.AUDIT
        if audit.comparisons:
            result.extra["tolerance_ratio"] = audit.worst_ratio
            result.extra["tolerance_ratio_at"] = audit.worst_at
        if any(log.shapes):
            result.extra["shapes"] = sorted({json.dumps(dict(s), sort_keys=True) for s in log.shapes if s})
        unmet = unmet_big_values(item.function, log.shapes)
        if unmet:
            result.extra["big_unmet"] = unmet
        result.impl_seconds = round(log.extra.get("impl_seconds", 0.0), 4)
        divergence = divergence_for(prop.id, flax_version()) if prop.kind == "framework" else None
        if call.excinfo is None:
            if divergence is not None:
                result.status = FAILED
                result.message = (
                    f"[{prop.id}] expected to diverge on flax {flax_version()} "
                    f"({divergence.flax}) but the claim held: narrow the range in "
                    f"properties/expectations.toml. Listed reason: {divergence.reason}"
                )
                report.outcome = "failed"
                report.longrepr = result.message
        else:
            stopped = isinstance(_first(call.excinfo.value), (PropertyTimeout, ShrinkStopped))
            # A failure found before time ran out is the verdict, with the smallest input so far.
            found = log.failure if stopped and log.failure is not None else None
            exc = found if found is not None else call.excinfo.value
            result.status = _classify_exception(exc)
            if out_of_memory(_first(exc)):
                item.stash[OOM_SEEN] = True
            result.inputs = log.failing_inputs
            result.reproduce = _reproduce(item, prop, impl, log.failing_inputs)
            body = _exception_text(exc)
            if found is not None:
                body += (
                    f"\n(shrinking was stopped: {_first(call.excinfo.value)}; this is the smallest failing "
                    f"input found in that time)"
                )
            result.message = compose_message(prop, body, log.failing_inputs, result.reproduce)
            if divergence is not None and result.status == divergence.status:
                result.extra["diverged_as"] = result.status  # what the divergence looks like, for diffs
                result.status = EXPECTED_DIVERGENCE
                result.message = f"known divergence on flax {flax_version()}: {divergence.reason}\n{result.message}"
                report.outcome = "skipped"
                report.wasxfail = divergence.reason  # shown by pytest as xfailed
            else:
                if divergence is not None and result.status in (FAILED, ERROR):
                    # Not absorbed: a claim that starts raising where it used to fail (or the reverse) changed.
                    result.message = (
                        f"[{prop.id}] on flax {flax_version()} properties/expectations.toml expects "
                        f"{divergence.status} ({divergence.flax}), but the property ended {result.status}: "
                        f"update the entry if this is what the release does.\n{result.message}"
                    )
                if result.status == FAILED:
                    report.longrepr = result.message
                else:
                    report.longrepr = f"{result.message}\n\n{report.longrepr}"
    report.user_properties.append((USER_KEY, json.dumps(result.as_dict(), default=str)))
