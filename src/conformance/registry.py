"""One registry of properties, each with an id, its document and section, and a hint.

A property is an ordinary Hypothesis test decorated with :func:`claim`. The
decorator records the metadata and instruments the test so that the harness
knows how many examples ran and which (shrunk) inputs failed last.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from conformance import naive

Kind = Literal["implementation", "framework"]
KINDS: tuple[Kind, ...] = ("implementation", "framework")
DOCUMENTS = ("01", "02", "03", "04", "05")


class RegistryError(Exception):
    pass


@dataclass(frozen=True)
class Property:
    id: str
    document: str
    section: str
    kind: Kind
    title: str
    hint: str
    needs: tuple[str, ...]
    module: str
    qualname: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "document": self.document,
            "section": self.section,
            "kind": self.kind,
            "title": self.title,
            "hint": self.hint,
            "needs": list(self.needs),
        }


@dataclass
class ExampleLog:
    """What the instrumented test saw during one property run (one per process)."""

    examples: int = 0
    failing_inputs: dict[str, Any] | None = None
    failures: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


REGISTRY: dict[str, Property] = {}
CURRENT = ExampleLog()


def reset_log() -> ExampleLog:
    global CURRENT
    CURRENT = ExampleLog()
    return CURRENT


def _instrument(test: Callable[..., Any]) -> None:
    hyp = getattr(test, "hypothesis", None)
    if hyp is None:
        raise RegistryError(f"{test.__qualname__}: a property must be a Hypothesis test (@given)")
    inner = hyp.inner_test

    @functools.wraps(inner)
    def counted(*args: Any, **kwargs: Any) -> Any:
        CURRENT.examples += 1
        naive.before_example()
        try:
            return inner(*args, **kwargs)
        except BaseException:
            # Hypothesis replays the shrunk example last, so the final record
            # is the minimal failing input.
            CURRENT.failures += 1
            CURRENT.failing_inputs = {k: v for k, v in kwargs.items() if k != "impl"}
            raise

    hyp.inner_test = counted


def claim(
    id: str,
    *,
    document: str,
    section: str,
    title: str,
    hint: str,
    needs: tuple[str, ...] = (),
    kind: Kind | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a Hypothesis test as the property ``id``.

    ``needs`` names the contract exports the property calls; a property that
    needs none checks the installed Flax itself and is of kind ``framework``.
    """
    resolved: Kind = kind or ("implementation" if needs else "framework")

    def decorate(test: Callable[..., Any]) -> Callable[..., Any]:
        prop = Property(
            id=id,
            document=document,
            section=section,
            kind=resolved,
            title=title,
            hint=hint,
            needs=tuple(needs),
            module=test.__module__,
            # Properties are module-level functions; Hypothesis' wrapper has a synthetic __qualname__.
            qualname=test.__name__,
        )
        existing = REGISTRY.get(id)
        if existing is not None and (existing.module, existing.qualname) != (prop.module, prop.qualname):
            raise RegistryError(f"property id {id!r} is registered twice: {existing.module}.{existing.qualname} and {prop.module}.{prop.qualname}")
        _instrument(test)
        _pin_divergent_examples(test, id)
        REGISTRY[id] = prop
        test.conformance_property = prop  # type: ignore[attr-defined]
        return test

    return decorate


def _pin_divergent_examples(test: Callable[..., Any], prop_id: str) -> None:
    """Run each known divergence's counterexample first, whatever the release."""
    from hypothesis import example

    from conformance.expectations import load_expectations

    for divergence in load_expectations():
        if divergence.property == prop_id and divergence.example:
            example(**divergence.example)(test)


def property_of(test: Any) -> Property | None:
    return getattr(test, "conformance_property", None)


def discover() -> dict[str, Property]:
    """Import every property module under the ``properties`` package."""
    import properties

    for info in pkgutil.iter_modules(properties.__path__):
        if info.name.startswith("test_"):
            importlib.import_module(f"properties.{info.name}")
    return dict(sorted(REGISTRY.items(), key=lambda kv: (kv[1].document, kv[0])))
