"""Hypothesis profiles: how many examples, whether runs are reproducible, and which shapes they draw.

:data:`PROFILES` is the one description of each profile: the plugin registers
them with Hypothesis and draws the shape pool they name, and the README's table
of profiles is generated from it (``make docs``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase


@dataclass(frozen=True)
class Profile:
    name: str
    examples: int
    derandomized: bool
    database: bool  # the example database replays earlier failures first
    pool: str  # "per run": a new shape pool each run; "fixed": the ci pool (seed 0); "free": no pool
    purpose: str


PROFILE_TABLE = (
    Profile("default", 100, False, True, "per run", "random; successive runs cover the size ranges"),
    Profile("ci", 100, True, False, "fixed", "the same inputs every run (used by make test)"),
    Profile("dev", 20, False, True, "per run", "quick feedback while editing"),
    Profile(
        "thorough",
        1000,
        False,
        True,
        "free",
        "before a release: sizes drawn freely, and document 04 at its own and BERT-base's configuration",
    ),
)
PROFILES = tuple(p.name for p in PROFILE_TABLE)
POOLS = {
    "per run": "a new pool each run",
    "fixed": "the fixed pool (seed 0)",
    "free": "drawn freely, no pool",
}


def profile_named(name: str) -> Profile:
    return next(p for p in PROFILE_TABLE if p.name == name)


DATABASE_DIR = Path(".conformance") / "examples"
# Where the database is when not under the working directory: a run of several implementations
# gives each a scratch folder as its working directory, and names the run's database here.
DATABASE_ENV = "CONFORMANCE_EXAMPLES_DIR"

_COMMON = dict(
    # JAX compiles on first use of a shape; a per-example deadline would flag that.
    deadline=None,
    # One failure, shrunk, reported plainly: the report has one message per property.
    report_multiple_bugs=False,
    print_blob=False,
    # filter_too_much: a property that skips undecidable inputs (a pre-activation within rounding of
    # relu's kink) skips more of them where rounding is coarser (wide layers, TF32, bfloat16);
    # the examples it keeps are still checked, and one that keeps none fails as Unsatisfiable.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.differing_executors,
        HealthCheck.filter_too_much,
    ],
)


def register_profiles(database_dir: Path | None = None) -> None:
    db = DirectoryBasedExampleDatabase(str(database_dir or os.environ.get(DATABASE_ENV) or DATABASE_DIR))
    for p in PROFILE_TABLE:
        settings.register_profile(
            p.name, max_examples=p.examples, derandomize=p.derandomized, database=db if p.database else None, **_COMMON
        )
    # Replaying one pinned example (``--example``) needs no generation at all.
    settings.register_profile("replay", max_examples=1, database=None, phases=[Phase.explicit], **_COMMON)


def load_profile(name: str, *, shrink: bool = True, max_examples: int | None = None) -> None:
    """Load profile ``name``; without ``shrink``, stop at the first failing example.

    The kill table only needs to know whether a property rejects a mutant, and
    shrinking a failure costs hundreds of extra examples; the examples tried
    before the failure are exactly those of the profile. ``max_examples``
    replaces the profile's number of examples (and keeps the rest of it).
    """
    register_profiles()
    if max_examples is not None:
        settings.register_profile(
            f"{name}-{max_examples}", parent=settings.get_profile(name), max_examples=max_examples
        )
        name = f"{name}-{max_examples}"
    if not shrink:
        parent = settings.get_profile(name)
        phases = [p for p in parent.phases if p is not Phase.shrink]
        settings.register_profile(f"{name}-no-shrink", parent=parent, phases=phases)
        name = f"{name}-no-shrink"
    settings.load_profile(name)
