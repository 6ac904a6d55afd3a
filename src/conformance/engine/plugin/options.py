"""The plugin's command-line options (``pytest --impl ...`` and the flags ``conformance run`` passes)."""

from __future__ import annotations

import pytest

from conformance.engine.defaults import DEFAULT_TARGET, DEFAULT_TIMEOUT, TARGET_ENV_VAR
from conformance.engine.profiles import PROFILES
from conformance.kit.precision import PRECISIONS


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("conformance", "flax-sharing-conformance")
    g.addoption(
        "--impl",
        action="append",
        default=None,
        metavar="TARGET",
        help="implementation module (dotted name or .py path); repeatable. "
        f"Default: ${TARGET_ENV_VAR} or {DEFAULT_TARGET}",
    )
    g.addoption(
        "--conformance-profile", default="default", choices=PROFILES, help="Hypothesis profile (default: %(default)s)"
    )
    g.addoption(
        "--conformance-json",
        default=None,
        metavar="PATH",
        help="write the JSON report here (atomically; partial on interrupt)",
    )
    g.addoption(
        "--strict-contract",
        action="store_true",
        help="a property whose contract names are missing fails instead of not_provided",
    )
    g.addoption(
        "--conformance-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help="seconds per property before it is stopped as timeout (0: none)",
    )
    g.addoption(
        "--conformance-deadline",
        default="auto",
        metavar="S",
        help="seconds the whole run may take; past them every property without a verdict is reported "
        "timeout (auto: from --conformance-timeout, the properties and the workers; 0: none)",
    )
    g.addoption(
        "--conformance-max-memory",
        type=float,
        default=None,
        metavar="MIB",
        help="MiB each xdist worker may allocate beyond its start-up (RLIMIT_DATA); past it the property "
        "is crashed (out of memory) and the worker replaced (default: half the machine's memory "
        "split between the workers; 0: no limit)",
    )
    g.addoption(
        "--only",
        action="append",
        default=None,
        metavar="ID",
        help="run only this property id (repeatable; a trailing * matches a prefix)",
    )
    g.addoption(
        "--kind", choices=("implementation", "framework"), default=None, help="run only properties of this kind"
    )
    g.addoption(
        "--max-examples", type=int, default=None, metavar="N", help="examples per property, instead of the profile's"
    )
    g.addoption(
        "--no-shrink", action="store_true", help="report the first failing example as found (for kill matrices)"
    )
    g.addoption(
        "--skip-identical-to",
        default=None,
        metavar="TARGET",
        help="with several --impl: skip a property for an implementation whose exports it needs (and "
        "whose contract options) are the very objects of TARGET's (for kill matrices)",
    )
    g.addoption(
        "--only-declared",
        action="store_true",
        help="with several --impl: run a module that declares CAUGHT_BY (a mutant) only on the properties "
        "it names (for quick kill matrices)",
    )
    g.addoption(
        "--example",
        default=None,
        metavar="JSON",
        help="replay exactly this input (a JSON object) instead of generating",
    )
    g.addoption(
        "--flax-mutant",
        default=None,
        metavar="MODULE",
        help="patch Flax with this module's patch(mp) first (implementations/flax_mutants)",
    )
    g.addoption(
        "--pool-seed",
        type=int,
        default=None,
        metavar="N",
        help="draw the run's shape pool from this seed (default: fixed for the ci profile, "
        "new for every run otherwise; printed and recorded in the report)",
    )
    g.addoption(
        "--precision",
        default="auto",
        choices=("auto", *PRECISIONS),
        help="effective precision of float32 matmuls, which the tolerances follow "
        "(default: detected from the backend and JAX's configuration)",
    )
    g.addoption(
        "--emulate-precision",
        default=None,
        choices=tuple(PRECISIONS),
        metavar="NAME",
        help="round every float32 matmul's operands to NAME's mantissa (checks the tolerance model on CPU)",
    )
    g.addoption(
        "--isolate-calls",
        action="store_true",
        help="import the implementation only in a process of its own and call its forward functions there; "
        "the judge receives arrays (module exports are then not_provided)",
    )
    g.addoption(
        "--compilation-cache",
        default=None,
        metavar="DIR",
        help="keep compiled XLA programs in DIR and reuse them in later runs "
        "(default: $CONFORMANCE_COMPILATION_CACHE, else none)",
    )
