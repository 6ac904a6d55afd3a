"""How long each property took in the benchmark's default run: the order in which workers take groups.

xdist hands a worker the next group of properties when it runs out (``--dist
loadgroup``), in queue order. Started in collection order, document 04's numeric
group (most of a run) could start last and finish alone; started longest first,
the workers finish close together. The seconds come from ``make bench``'s default
run on the reference (``properties/durations.toml``, refreshed with ``make
bench-durations``); a property not listed counts as the mean of those that
are. Only the order depends on them, never a verdict.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path

FILE = "durations.toml"


@functools.cache
def recorded(properties_dir: Path) -> dict[str, float]:
    path = properties_dir / FILE
    if not path.is_file():
        return {}
    return {k: float(v) for k, v in tomllib.loads(path.read_text()).get("seconds", {}).items()}


def estimate(prop_id: str, seconds: Mapping[str, float]) -> float:
    """The recorded seconds of ``prop_id``, or the mean of the recorded ones (1.0 if none is)."""
    if prop_id in seconds:
        return seconds[prop_id]
    return sum(seconds.values()) / len(seconds) if seconds else 1.0


def render(seconds: Mapping[str, float], source: str) -> str:
    """The durations file for ``seconds`` (property id -> seconds), saying where they were measured."""
    lines = [
        "# Seconds each property took in the benchmark's default run, measured on " + source + ".",
        "# Only the order in which xdist workers take groups of properties depends on them (longest first),",
        "# never a verdict. Refresh: `make bench-durations` (conformance.engine.durations).",
        "[seconds]",
    ]
    lines += [f'"{k}" = {v:.1f}' for k, v in sorted(seconds.items())]
    return "\n".join(lines) + "\n"
