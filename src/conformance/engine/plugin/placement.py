"""Where implementation code runs: in the judging process, in a process of its own, or only to be described.

- A process that judges (an xdist worker, or the only process with
  ``--workers 0``) imports each implementation, after the tamper guard has taken
  the judge's state (:mod:`.tamper_guard`), and checks what the import changed.
- With ``--isolate-calls`` it imports none: each implementation runs in a
  process of its own that it calls (:mod:`conformance.engine.isolated_calls`).
- The controlling process of a run with workers imports none either: a
  separate process imports them once to describe them for the report (name,
  path, exports) and to turn a module that does not import into one line and
  exit 2. So nothing an implementation does reaches the process that writes the
  report and decides the exit status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from conformance.engine.defaults import default_max_memory_mib
from conformance.engine.isolated_calls import CalledImplementation, describe_elsewhere, isolate
from conformance.engine.loading import LoadError, load_implementation
from conformance.engine.plugin.tamper_guard import Guard


@dataclass
class Described:
    """An implementation as a separate process described it; the controlling process holds no module of it."""

    target: str
    name: str
    path: str | None
    exports: list[str]
    config_changes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def provided(self) -> list[str]:
        return list(self.exports)


def controls_workers(config: pytest.Config) -> bool:
    """This is xdist's controlling process: the workers judge, it only schedules and records.

    Read from the options: xdist registers its session plugin in a ``pytest_configure`` that may run after ours.
    """
    workers = getattr(config.option, "numprocesses", None)
    return not hasattr(config, "workerinput") and bool(workers) and config.getoption("dist", "no") != "no"


def _memory_budget(config: pytest.Config) -> float | None:
    mib = config.getoption("conformance_max_memory")
    if mib is None and hasattr(config, "workerinput"):
        mib = default_max_memory_mib(int(config.workerinput.get("workercount", 1) or 1))
    return mib


def implementations(config: pytest.Config, targets: list[str], guard: Guard | None) -> list[Any]:
    """The run's implementations, each loaded where it belongs (see the module docstring)."""
    try:
        if controls_workers(config):
            return [_described(d) for d in describe_elsewhere(targets)]
        if config.getoption("isolate_calls"):
            called = [isolate(t, _memory_budget(config)) for t in targets]
            config.add_cleanup(lambda: [c.process.stop() for c in called if c.process is not None])
            return called
        loaded = []
        for target in targets:
            loaded.append(load_implementation(target))
            if guard is not None:
                guard.after_import(loaded[-1].name)
        return loaded
    except LoadError as exc:
        raise pytest.UsageError(f"cannot load implementation: {exc}") from None


def _described(d: dict[str, Any]) -> Described:
    if "load_error" in d:
        raise LoadError(d["load_error"])
    changes = {k: (v[0], v[1]) for k, v in d["config_changes"].items()}
    return Described(d["target"], d["name"], d["path"], list(d["provides"]), changes)


__all__ = ["CalledImplementation", "Described", "controls_workers", "implementations"]
