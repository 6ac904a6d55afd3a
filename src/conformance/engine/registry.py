"""One registry of properties, each with an id, its document and section, and a hint.

A property is an ordinary Hypothesis test decorated with :func:`conformance_property`. The
decorator records the metadata and instruments the test so that the harness
knows how many examples ran and which (shrunk) inputs failed last.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hypothesis.errors import UnsatisfiedAssumption

from conformance.engine.defaults import SHRINK_SECONDS
from conformance.engine.outcomes import PropertyTimeout, ShrinkStopped
from conformance.kit import assertions, naive

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
    modes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "document": self.document,
            "section": self.section,
            "kind": self.kind,
            "title": self.title,
            "hint": self.hint,
            "needs": list(self.needs),
            "modes": list(self.modes),
            "module": self.module,
            "function": self.qualname,
        }


@dataclass
class ExampleLog:
    """What the instrumented test saw during one property run (one per process)."""

    examples: int = 0
    failing_inputs: dict[str, Any] | None = None
    failures: int = 0
    # The last failing example's exception (the smallest so far while shrinking), and when
    # the first failure was seen: shrinking is bounded in time from there.
    failure: BaseException | None = None
    first_failure_at: float | None = None
    shrink_seconds: float = SHRINK_SECONDS
    # The distinct sizes the examples drew (see SIZE_ARGS), for coverage figures.
    shapes: set[tuple] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)


# Property arguments that are sizes; their values make up an example's shape.
SIZE_ARGS = frozenset(
    {
        "shape",
        "sizes",
        "case",
        "num_layers",
        "d_model",
        "num_heads",
        "d_ff",
        "hidden",
        "in_dim",
        "n",
        "batch",
        "seq",
        "features",
    }
)

# The package that holds the catalogue: one subpackage per document, property modules named test_*.
PROPERTIES_PACKAGE = "conformance.properties"

REGISTRY: dict[str, Property] = {}
CURRENT = ExampleLog()


def reset_log(*, shrink_seconds: float = SHRINK_SECONDS) -> ExampleLog:
    global CURRENT
    assertions.reset_audit()
    CURRENT = ExampleLog(shrink_seconds=shrink_seconds)
    return CURRENT


def _hashable(value: Any) -> Any:
    """A replayed example's lists (from JSON) as tuples."""
    return tuple(_hashable(v) for v in value) if isinstance(value, (list, tuple)) else value


def _instrument(test: Callable[..., Any]) -> None:
    hyp = getattr(test, "hypothesis", None)
    if hyp is None:
        raise RegistryError(f"{test.__qualname__}: a property must be a Hypothesis test (@given)")
    inner = hyp.inner_test

    @functools.wraps(inner)
    def counted(*args: Any, **kwargs: Any) -> Any:
        log = CURRENT
        if log.first_failure_at is not None and time.monotonic() - log.first_failure_at > log.shrink_seconds:
            raise ShrinkStopped(f"shrinking ran for {log.shrink_seconds:g} s")
        log.examples += 1
        shape = tuple((k, _hashable(kwargs[k])) for k in sorted(kwargs) if k in SIZE_ARGS)
        new_shape = shape not in log.shapes
        log.shapes.add(shape)
        naive.before_example()
        try:
            return inner(*args, **kwargs)
        except (PropertyTimeout, ShrinkStopped):
            raise  # the run was stopped, this example did not fail
        except UnsatisfiedAssumption:
            log.examples -= 1  # assume() rejected the input: not an example, not a failure, no shrinking to bound
            if new_shape:
                log.shapes.discard(shape)
            raise
        except BaseException as exc:
            # Hypothesis only keeps a smaller failing example while shrinking and replays the
            # shrunk one last, so the latest record is the smallest failing input so far.
            log.failures += 1
            log.failing_inputs = {k: v for k, v in kwargs.items() if k != "impl"}
            log.failure = exc
            if log.first_failure_at is None:
                log.first_failure_at = time.monotonic()
            raise

    hyp.inner_test = counted


def conformance_property(
    id: str,
    *,
    document: str,
    section: str,
    title: str,
    hint: str,
    needs: tuple[str, ...] = (),
    modes: tuple[str, ...] = (),
    kind: Kind | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a Hypothesis test as the property ``id``.

    ``needs`` names the contract exports the property calls; a property that
    needs none checks the installed Flax itself and is of kind ``framework``.
    ``modes`` names the share modes of document 04's SharedTransformer it
    checks; an implementation whose ``SHARE_MODES`` lacks one gets ``not_provided``.
    """
    resolved: Kind = kind or ("implementation" if needs else "framework")

    def decorate(test: Callable[..., Any]) -> Callable[..., Any]:
        # A property reads like its claim: the function is named after the id.
        expected_name = function_name(id)
        if test.__name__ != expected_name:
            raise RegistryError(f"property {id!r} is defined as {test.__name__}; name it {expected_name}")
        prop = Property(
            id=id,
            document=document,
            section=section,
            kind=resolved,
            title=title,
            hint=hint,
            needs=tuple(needs),
            modes=tuple(modes),
            module=test.__module__,
            # Properties are module-level functions; Hypothesis' wrapper has a synthetic __qualname__.
            qualname=test.__name__,
        )
        existing = REGISTRY.get(id)
        if existing is not None and (existing.module, existing.qualname) != (prop.module, prop.qualname):
            raise RegistryError(
                f"property id {id!r} is registered twice: {existing.module}.{existing.qualname} and {prop.module}.{prop.qualname}"
            )
        _instrument(test)
        _pin_divergent_examples(test, id)
        REGISTRY[id] = prop
        test.conformance_property = prop  # type: ignore[attr-defined]
        return test

    return decorate


def _pin_divergent_examples(test: Callable[..., Any], prop_id: str) -> None:
    """Run each known divergence's counterexample first, whatever the release."""
    from hypothesis import example

    from conformance.engine.expectations import load_expectations

    for divergence in load_expectations():
        if divergence.property == prop_id and divergence.example:
            example(**{name: as_drawn(value) for name, value in divergence.example.items()})(test)


def as_drawn(value: Any) -> Any:
    """A value pinned from TOML as the strategies draw it: arrays (TOML lists) are tuples.

    Shapes are drawn as tuples; a list would reach the property unhashable.
    """
    return tuple(as_drawn(v) for v in value) if isinstance(value, list) else value


def property_of(test: Any) -> Property | None:
    return getattr(test, "conformance_property", None)


def function_name(prop_id: str) -> str:
    """``04-block-matches-oracle`` is defined as ``test_block_matches_oracle``."""
    return "test_" + prop_id.split("-", 1)[1].replace("-", "_")


def property_modules() -> list[str]:
    """The dotted names of every property module in the catalogue, in document order."""
    package = importlib.import_module(PROPERTIES_PACKAGE)
    return sorted(
        info.name
        for info in pkgutil.walk_packages(package.__path__, f"{PROPERTIES_PACKAGE}.")
        if not info.ispkg and info.name.rsplit(".", 1)[-1].startswith("test_")
    )


def properties_dir() -> Path:
    """Where the catalogue's files are, wherever the package is installed."""
    return Path(importlib.import_module(PROPERTIES_PACKAGE).__path__[0])


def discover(*, skip_broken: bool = False) -> dict[str, Property]:
    """Import every property module; ``skip_broken`` leaves out modules that do not import here."""
    for name in property_modules():
        try:
            importlib.import_module(name)
        except Exception:
            if not skip_broken:
                raise
    return dict(sorted(REGISTRY.items(), key=lambda kv: (kv[1].document, kv[0])))


def matches(prop_id: str, patterns: Iterable[str]) -> bool:
    """Whether ``prop_id`` is one of ``patterns``; a trailing ``*`` matches a prefix."""
    return any(prop_id == p or (p.endswith("*") and prop_id.startswith(p[:-1])) for p in patterns)


def selected(prop: Property, *, only: Iterable[str] | None = None, kind: str | None = None) -> bool:
    """The selection every command applies: ``--only`` patterns and ``--kind``."""
    if kind and prop.kind != kind:
        return False
    return not only or matches(prop.id, only)


def unknown_patterns(patterns: Iterable[str], props: dict[str, Property]) -> list[str]:
    """Patterns that select nothing in ``props``."""
    return [p for p in patterns if not any(matches(i, [p]) for i in props)]
