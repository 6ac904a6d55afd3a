"""Which jax/jaxlib each Flax release runs with (``compat.toml``), and each environment's requirement set.

The suite's runtime dependencies come pinned from ``requirements.lock``; a
release's own ``pins`` in the table replace the lock's pin of that package.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources

from packaging.version import Version

from conformance.engine.runner import UsageError

# The suite's runtime dependencies; their versions come from requirements.lock.
RUNTIME_DEPS = ("numpy", "hypothesis", "pytest", "pytest-xdist", "chex", "rich")
COMPAT_FILE = "src/conformance/commands/releases/compat.toml"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Pair:
    flax: str
    jax: str
    jaxlib: str
    pins: tuple[str, ...] = ()
    note: str = ""
    jax_supported: tuple[str, ...] = ()  # every jax the catalogue was run with on this release


def parse_compat(text: str) -> dict[str, Pair]:
    data = tomllib.loads(text)
    table = {}
    for version, entry in data.get("flax", {}).items():
        missing = {"jax", "jaxlib"} - entry.keys()
        if missing:
            raise UsageError(f'{COMPAT_FILE}: [flax."{version}"] lacks {", ".join(sorted(missing))}')
        table[version] = Pair(
            flax=version,
            jax=str(entry["jax"]),
            jaxlib=str(entry["jaxlib"]),
            pins=tuple(entry.get("pins", ())),
            note=str(entry.get("note", "")),
            jax_supported=tuple(str(v) for v in entry.get("jax_supported", ())),
        )
    return table


def load_compat() -> dict[str, Pair]:
    return parse_compat(resources.files(__package__).joinpath("compat.toml").read_text())


def missing_pair_message(version: str, known: list[str]) -> str:
    return (
        f'no jax/jaxlib pair for flax {version} in {COMPAT_FILE}: add a [flax."{version}"] table '
        f'with jax = "..." and jaxlib = "..." (optional: pins = [...], note = "..."), '
        f"then check it with `conformance matrix --flax {version}`; known releases: "
        f"{', '.join(known) or 'none'}"
    )


def pairs_for(versions: list[str], table: dict[str, Pair]) -> list[Pair]:
    for version in versions:
        if version not in table:
            raise UsageError(missing_pair_message(version, list(table)))
    return [table[v] for v in dict.fromkeys(versions)]


def newest(table: dict[str, Pair], n: int) -> list[str]:
    """The ``n`` newest releases of the table, oldest first."""
    return sorted(table, key=Version)[-n:] if n > 0 else []


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    m = _NAME.match(requirement)
    if not m:
        raise UsageError(f"{COMPAT_FILE}: cannot read the requirement {requirement!r}")
    return canonical(m.group(1))


def lock_pins(lock_text: str) -> dict[str, str]:
    """``name==version`` lines of a uv/pip-compile lock file, by canonical name."""
    pins = {}
    for line in lock_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            pins[requirement_name(line)] = line.replace(" ", "")
    return pins


def requirements(pair: Pair, lock: dict[str, str], flax: str | None = None) -> list[str]:
    """The pinned requirement set of one release's environment (sorted, deterministic).

    ``flax`` replaces ``flax==<pair.flax>`` (a local build: ``flax @ file:///...whl``).
    """
    reqs = {"flax": flax or f"flax=={pair.flax}", "jax": f"jax=={pair.jax}", "jaxlib": f"jaxlib=={pair.jaxlib}"}
    for dep in RUNTIME_DEPS:
        reqs[canonical(dep)] = lock.get(canonical(dep), dep)
    for pin in pair.pins:  # a pin from compat.toml replaces the lock's pin of that package
        reqs[requirement_name(pin)] = pin
    return sorted(reqs.values(), key=requirement_name)
