"""Counting XLA compilations per test (``CONFORMANCE_COMPILE_COUNT_DIR``), for the benchmark."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

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
        figures = {
            "compiles": self.count,
            "compile_seconds": self.seconds,
            "cache_hits": self.hits,
            "by_test": self.by_test,
        }
        Path(self.directory, f"{os.getpid()}.json").write_text(json.dumps(figures, indent=1))


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    directory = os.environ.get(COMPILE_COUNT_ENV)
    if directory and not session.config.pluginmanager.has_plugin("conformance-compile-counter"):
        session.config.pluginmanager.register(CompileCounter(directory), "conformance-compile-counter")
