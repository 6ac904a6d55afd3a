"""Verdicts, and how a finished property run maps onto one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PASSED = "passed"
FAILED = "failed"
ERROR = "error"
TIMEOUT = "timeout"
CRASHED = "crashed"
NOT_PROVIDED = "not_provided"
EXPECTED_DIVERGENCE = "expected_divergence"
# Implementation code changed the judge (its modules, pytest, Hypothesis, NumPy, JAX, its files): whatever the
# property reported, no verdict of that implementation's run can be trusted.
TAMPERED = "tampered"
STATUSES = (PASSED, FAILED, ERROR, TIMEOUT, CRASHED, NOT_PROVIDED, EXPECTED_DIVERGENCE, TAMPERED)
# Statuses that make `conformance run` exit 1.
BAD = frozenset({FAILED, ERROR, TIMEOUT, CRASHED, TAMPERED})


class PropertyTimeout(BaseException):
    """Raised into a property that ran past ``--timeout``.

    A BaseException so that neither Hypothesis nor the implementation's own
    ``except Exception`` can swallow it.
    """


class OutOfMemory(BaseException):
    """The implementation ran out of memory (a MemoryError under the worker's memory limit).

    A BaseException for the reason PropertyTimeout is one: Hypothesis would
    otherwise retry and shrink the example, allocating up to the limit each time.
    """


class ImplementationDied(BaseException):
    """The separate process an implementation's calls run in died (``--isolate-calls``): ``crashed``.

    A BaseException for the reason OutOfMemory is one: Hypothesis would retry and
    shrink, starting a process for every try.
    """


class ShrinkStopped(BaseException):
    """Raised into a property whose shrinking has run past its time budget.

    The smallest failing input found so far is reported as the failure.
    """


@dataclass
class Result:
    id: str
    document: str
    kind: str
    title: str
    status: str
    examples: int = 0
    seconds: float = 0.0
    message: str = ""
    implementation: str | None = None
    inputs: dict[str, Any] | None = None
    reproduce: str | None = None
    impl_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not d["extra"]:
            d.pop("extra")
        return d
