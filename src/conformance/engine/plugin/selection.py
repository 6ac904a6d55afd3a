"""Which collected properties run (``--only``, ``--kind``, ``--skip-identical-to``, ``--only-declared``), the
xdist group of each, and the explicit examples that make each meet every big shape of the run's pool."""

from __future__ import annotations

import pytest

from conformance.engine import durations, registry
from conformance.engine.plugin.scheduling import group, impl_of
from conformance.engine.plugin.stash import IMPLS
from conformance.kit import strategies
from conformance.kit.pools import current_pool


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    baseline = _baseline(config)
    only_declared = config.getoption("only_declared")
    groups: dict[pytest.Item, str] = {}
    for item in items:
        prop = registry.property_of(getattr(item, "function", None))
        skip = prop is not None and (
            not registry.selected(prop, only=config.getoption("only"), kind=config.getoption("kind"))
            or _same_as_baseline(item, prop, baseline)
            or (only_declared and _not_declared(item, prop))
        )
        (dropped if skip else kept).append(item)
        if prop is not None:
            groups[item] = group(prop, item, config.stash[IMPLS])
            item.add_marker(pytest.mark.xdist_group(groups[item]))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    _longest_groups_first(items, groups)
    _meet_every_big_shape(items)


def _longest_groups_first(items: list[pytest.Item], groups: dict[pytest.Item, str]) -> None:
    """Order the items so that xdist's queue (``--no-loadscope-reorder``) starts the longest groups first."""
    seconds = durations.recorded(registry.properties_dir())
    cost: dict[str, float] = {}
    for item, name in groups.items():
        cost[name] = cost.get(name, 0.0) + durations.estimate(registry.property_of(item.function).id, seconds)
    items.sort(key=lambda item: -cost.get(groups.get(item, ""), 0.0))  # stable: each group keeps its order


def _meet_every_big_shape(items: list[pytest.Item]) -> None:
    """Each selected property meets every big shape of the run's pool once (an explicit example each)."""
    seen: set[int] = set()
    for item in items:
        test = getattr(item, "function", None)
        if registry.property_of(test) is not None and id(test) not in seen:
            seen.add(id(test))
            strategies.add_big_examples(test, current_pool())


def _baseline(config: pytest.Config):
    target = config.getoption("skip_identical_to")
    if target is None:
        return None
    found = [i for i in config.stash[IMPLS] if i.target == target]
    if not found:
        raise pytest.UsageError(f"--skip-identical-to {target}: not among the --impl targets")
    return found[0]


def _not_declared(item: pytest.Item, prop) -> bool:
    """The implementation is a mutant (it declares CAUGHT_BY) and does not name this property."""
    impl = impl_of(item)
    declared = getattr(impl.module, "CAUGHT_BY", None) if impl is not None else None
    return declared is not None and prop.id not in declared


def _same_as_baseline(item: pytest.Item, prop, baseline) -> bool:
    """The property would run the baseline's very code again for this implementation."""
    impl = impl_of(item)
    return baseline is not None and impl is not None and impl is not baseline and impl.same_as(baseline, prop.needs)
