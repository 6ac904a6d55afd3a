"""``--example``: run a property's body once on exactly one input, without a Hypothesis search."""

from __future__ import annotations

import json

import pytest

from conformance.engine import registry


def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """With ``--example``, call the property body once on exactly that input."""
    raw = pyfuncitem.config.getoption("example")
    if raw is None or registry.property_of(pyfuncitem.function) is None:
        return None
    example = json.loads(raw)
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames if name in pyfuncitem.funcargs}
    pyfuncitem.function.hypothesis.inner_test(**args, **example)
    return True
