"""Session set-up: the Hypothesis profile, a Flax mutant, the compilation cache, the implementations.

The implementations (loaded where :mod:`.placement` says, watched for tampering
by :mod:`.tamper_guard` and :mod:`.tamper_watch`) are stashed on the config;
each property is parametrised with them (``impl``), and the controller starts
the run report.
"""

from __future__ import annotations

import importlib
import os
import secrets
from typing import Any

import pytest

from conformance.engine import registry
from conformance.engine.defaults import CACHE_ENV_VAR
from conformance.engine.loading import resolve_target
from conformance.engine.plugin.deadline import Deadline
from conformance.engine.plugin.emulation import emulate
from conformance.engine.plugin.memory_limit import limit_worker
from conformance.engine.plugin.placement import controls_workers, implementations
from conformance.engine.plugin.recorder import Recorder
from conformance.engine.plugin.stash import IMPLS, POOL_SEED, REPORT
from conformance.engine.plugin.tamper_guard import install as guard_this_process
from conformance.engine.plugin.tamper_watch import install as watch_the_workers
from conformance.engine.profiles import load_profile, profile_named
from conformance.engine.report import RunReport
from conformance.kit import pools, precision

_FLAX_PATCH = pytest.StashKey[pytest.MonkeyPatch]()
_POOL_SEED_KEY = "conformance_pool_seed"


def _patch_flax(target: str) -> pytest.MonkeyPatch:
    """Apply a Flax mutant (implementations/flax_mutants) to this process."""
    try:
        module = importlib.import_module(target)
        patch = module.patch
    except (ImportError, AttributeError) as exc:
        raise pytest.UsageError(f"--flax-mutant {target}: {exc}") from None
    mp = pytest.MonkeyPatch()
    patch(mp)
    return mp


def pytest_unconfigure(config: pytest.Config) -> None:
    mp = config.stash.get(_FLAX_PATCH, None)
    if mp is not None:
        mp.undo()


def _use_pool(config: pytest.Config) -> int:
    """Choose the run's shape pool (in the controller) and use it in this process.

    Workers get the controller's seed through xdist's workerinput, so every
    process of a run samples the same pool.
    """
    pool = profile_named(config.getoption("conformance_profile")).pool
    if hasattr(config, "workerinput"):
        seed = int(config.workerinput[_POOL_SEED_KEY])
    elif config.getoption("pool_seed") is not None:
        seed = config.getoption("pool_seed")
    else:
        seed = pools.CI_POOL_SEED if pool == "fixed" else secrets.randbelow(2**31)
    pools.use_pool(seed, free=pool == "free", sizes=os.environ.get(pools.SIZES_ENV, "real"))
    return seed


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput[_POOL_SEED_KEY] = node.config.stash[POOL_SEED]


def _targets(config: pytest.Config) -> list[str]:
    return config.getoption("impl") or [resolve_target(None)]


@pytest.hookimpl(trylast=True)  # after Hypothesis' own plugin, which loads its default profile
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: a registered conformance property")
    if config.getoption("flax_mutant"):  # before anything below builds a Flax module
        config.stash[_FLAX_PATCH] = _patch_flax(config.getoption("flax_mutant"))
    if config.getoption("example"):
        load_profile("replay")
    else:
        load_profile(
            config.getoption("conformance_profile"),
            shrink=not config.getoption("no_shrink"),
            max_examples=config.getoption("max_examples"),
        )
    cache = config.getoption("compilation_cache") or os.environ.get(CACHE_ENV_VAR)
    if cache:
        from conformance.kit.compiled import persist_compilations

        persist_compilations(cache)
    config.stash[POOL_SEED] = _use_pool(config)
    if config.getoption("emulate_precision"):
        mp = config.stash.get(_FLAX_PATCH, None) or pytest.MonkeyPatch()
        config.stash[_FLAX_PATCH] = mp
        emulate(mp, config.getoption("emulate_precision"))
    chosen = config.getoption("precision")
    matmul = precision.use_precision(precision.detect() if chosen == "auto" else chosen)
    # Before any implementation code runs: the judge's state, and in the controller the suite's files.
    guard = guard_this_process(config) if not controls_workers(config) else None
    watch_the_workers(config, guard)
    impls = implementations(config, _targets(config), guard)
    config.stash[IMPLS] = impls
    limit_worker(config)
    if not hasattr(config, "workerinput"):
        run = RunReport.start(
            impls,
            profile=config.getoption("conformance_profile"),
            json_path=config.getoption("conformance_json"),
            pool_seed=config.stash[POOL_SEED],
            precision={
                "backend": precision.backend(),
                "matmul": matmul.name,
                "stated": chosen != "auto",
                "emulated": config.getoption("emulate_precision"),
            },
        )
        config.stash[REPORT] = run
        recorder = Recorder(run)
        config.pluginmanager.register(recorder, "conformance-recorder")
        config.pluginmanager.register(Deadline(config, recorder), "conformance-deadline")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if registry.property_of(metafunc.function) is None:
        return
    if "impl" in metafunc.fixturenames:
        impls = metafunc.config.stash[IMPLS]
        metafunc.parametrize("impl", impls, ids=[i.name for i in impls])
