"""The wrong implementations that prove the catalogue, and the conforming ones it must pass.

A mutant module (``implementations/mutants/``) carries one defect and says so:
``DOCUMENT``, ``DEFECT``, ``CAUGHT_BY`` (the properties that must reject it) and,
for a defect hidden below a size, ``GATE``. A Flax mutant
(``implementations/flax_mutants/``) patches Flax itself through ``patch(mp)``.
The conforming variants (``implementations/variants/``) take other correct
paths and must pass everything.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from conformance.engine.defaults import DEFAULT_TARGET

CONFORMING_PACKAGE = "conformance.implementations.variants"
MUTANT_PACKAGE = "conformance.implementations.mutants"
FLAX_MUTANT_PACKAGE = "conformance.implementations.flax_mutants"
REFERENCE = DEFAULT_TARGET


@dataclass(frozen=True)
class Mutant:
    name: str
    target: str
    document: str
    defect: str
    caught_by: tuple[str, ...]
    # For a defect hidden below a size: the condition on the inputs that reaches it.
    gate: str = ""


def _modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    return sorted(f"{package}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def discover_mutants(package: str = MUTANT_PACKAGE, also_required: tuple[str, ...] = ()) -> list[Mutant]:
    out = []
    required = ("DOCUMENT", "DEFECT", "CAUGHT_BY", *also_required)
    for target in _modules(package):
        module = importlib.import_module(target)
        missing = [a for a in required if not hasattr(module, a)]
        if missing or not (module.__doc__ or "").strip():
            raise ValueError(f"{target} lacks {', '.join(missing) or 'a docstring'}: every mutant states its defect")
        out.append(
            Mutant(
                name=target.rsplit(".", 1)[-1],
                target=target,
                document=module.DOCUMENT,
                defect=module.DEFECT,
                caught_by=tuple(module.CAUGHT_BY),
                gate=getattr(module, "GATE", ""),
            )
        )
    return out


def discover_flax_mutants() -> list[Mutant]:
    return discover_mutants(FLAX_MUTANT_PACKAGE, also_required=("patch",))


def discover_conforming() -> list[str]:
    return [REFERENCE, *_modules(CONFORMING_PACKAGE)]


def caught_by_index(mutants: list[Mutant]) -> dict[str, list[str]]:
    """Property id -> the mutants whose ``CAUGHT_BY`` names it."""
    index: dict[str, list[str]] = {}
    for m in mutants:
        for pid in m.caught_by:
            index.setdefault(pid, []).append(m.name)
    return {pid: sorted(names) for pid, names in index.items()}


def proving_mutants() -> dict[str, list[str]]:
    """Property id -> the mutants and Flax mutants that must fail it (their ``CAUGHT_BY`` names it)."""
    return caught_by_index(discover_mutants() + discover_flax_mutants())
