"""Which collected properties run (``--only``, ``--kind``), and the xdist group of each."""

from __future__ import annotations

import pytest

from conformance.engine import registry
from conformance.engine.plugin.stash import IMPLS
from conformance.engine.plugin.scheduling import group


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        prop = registry.property_of(getattr(item, "function", None))
        (dropped if prop is not None and not registry.selected(
            prop, only=config.getoption("only"), kind=config.getoption("kind")) else kept).append(item)
        if prop is not None:
            item.add_marker(pytest.mark.xdist_group(group(prop, item, config.stash[IMPLS])))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
