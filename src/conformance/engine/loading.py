"""Load an implementation module and mediate every call the suite makes into it.

Two jobs: turn a bad target into one readable line (never a traceback), and
keep the suite's own assertions apart from exceptions raised by the code under
test, so that a crashing implementation is reported as ``error`` rather than
as a failed claim.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from conformance.engine.contract import BY_NAME, OPTION_BY_NAME, SHARE_MODES
from conformance.engine.defaults import DEFAULT_TARGET, TARGET_ENV_VAR
from conformance.engine.memory import is_out_of_memory, lift_memory_limit
from conformance.engine.outcomes import OutOfMemory


class LoadError(Exception):
    """The implementation module could not be imported; the message is one line."""


class NotProvided(Exception):
    """The implementation does not export a name a property needs."""


class ImplementationRaised(Exception):
    """Code of the implementation under test raised while the suite called it."""

    def __init__(self, what: str, exc: BaseException):
        self.what = what
        self.original = exc
        super().__init__(f"{what} raised {type(exc).__name__}: {_one_line(str(exc))}")


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _config_snapshot() -> dict[str, Any]:
    import jax

    return {k: repr(v) for k, v in jax.config.values.items()}


@dataclass
class Implementation:
    target: str
    name: str
    module: ModuleType
    path: str | None
    config_changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    call_seconds: float = 0.0
    calls: int = 0

    def provides(self, export: str) -> bool:
        return hasattr(self.module, export)

    def provided(self) -> list[str]:
        return [name for name in BY_NAME if self.provides(name)]

    def why_missing(self, export: str) -> str:
        """How a ``not_provided`` verdict names ``export``, which :meth:`provides` denies."""
        return export

    def option(self, name: str) -> Any:
        """The module's value of a contract option (:data:`conformance.engine.contract.OPTIONS`), or None."""
        if name not in OPTION_BY_NAME:
            raise KeyError(f"{name!r} is not an option of the contract")
        return getattr(self.module, name, None)

    def share_modes(self) -> tuple[str, ...]:
        """The share modes SharedTransformer supports: the module's SHARE_MODES, else all of document 04's."""
        declared = self.option("SHARE_MODES")
        return SHARE_MODES if declared is None else tuple(str(m) for m in declared)

    def same_as(self, other: Implementation, exports: tuple[str, ...]) -> bool:
        """Whether each of ``exports`` and every contract option is the very same object in both modules.

        A property that uses nothing else gives both implementations the same verdict.
        """
        missing = object()
        return all(
            getattr(self.module, n, missing) is getattr(other.module, n, missing) for n in (*exports, *OPTION_BY_NAME)
        )

    def get(self, export: str) -> Any:
        if export not in BY_NAME:
            raise KeyError(f"{export!r} is not part of the contract")
        try:
            return getattr(self.module, export)
        except AttributeError:
            raise NotProvided(export) from None

    @contextmanager
    def running(self, what: str) -> Iterator[None]:
        """Attribute exceptions and time inside the block to the implementation."""
        start = time.perf_counter()
        try:
            yield
        except (NotProvided, ImplementationRaised):
            raise
        except Exception as exc:
            if is_out_of_memory(exc):
                lift_memory_limit()  # what the implementation holds may leave no room to report
                raise OutOfMemory(f"{what} ran out of memory ({type(exc).__name__})") from exc
            raise ImplementationRaised(what, exc) from exc
        finally:
            self.call_seconds += time.perf_counter() - start
            self.calls += 1

    def call(self, export: str, *args: Any, **kwargs: Any) -> Any:
        fn = self.get(export)
        with self.running(export):
            return fn(*args, **kwargs)


def resolve_target(target: str | None) -> str:
    return target or os.environ.get(TARGET_ENV_VAR) or DEFAULT_TARGET


def _is_path(target: str) -> bool:
    return target.endswith(".py") or os.sep in target or "/" in target


def _where(exc: BaseException, path: str | None) -> str:
    """file:line of the innermost frame in the implementation's own file."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if path and os.path.abspath(f.filename) == path]
    frame = (own or frames or [None])[-1]
    if frame is None:
        return path or "?"
    return f"{frame.filename}:{frame.lineno}"


_LOADED: dict[str, Implementation] = {}


def load_implementation(target: str | None = None) -> Implementation:
    """Import ``target`` (a dotted module name or a path to a .py file), once per process.

    Loading once keeps the record of what the first import changed in JAX's
    global configuration; a second import would see nothing change.
    """
    target = resolve_target(target)
    if target not in _LOADED:
        _LOADED[target] = _load(target)
    return _LOADED[target]


def _load(target: str) -> Implementation:
    before = _config_snapshot()
    path: str | None = None
    try:
        if _is_path(target):
            file = Path(target).expanduser().resolve()
            if not file.is_file():
                raise LoadError(f"{target}: no such file")
            path = str(file)
            # A package is named by its __init__.py, and imports its own modules relatively.
            package = file.name == "__init__.py"
            name = file.parent.name if package else file.stem
            spec = importlib.util.spec_from_file_location(
                f"conformance_impl_{name}", file, submodule_search_locations=[str(file.parent)] if package else None
            )
            if spec is None or spec.loader is None:
                raise LoadError(f"{target}: not a Python module")
            module = importlib.util.module_from_spec(spec)
            # Let a student's file import its siblings.
            sys.path.insert(0, str(file.parent.parent if package else file.parent))
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            spec = importlib.util.find_spec(target)
            if spec is None:
                raise LoadError(f"{target}: no module of that name (give a dotted module or a path to a .py file)")
            path = os.path.abspath(spec.origin) if spec.origin else None
            module = importlib.import_module(target)
            name = target.rsplit(".", 1)[-1]
    except LoadError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name and target.startswith(exc.name) and not _is_path(target):
            raise LoadError(
                f"{target}: no module of that name (give a dotted module or a path to a .py file)"
            ) from None
        raise LoadError(f"{_where(exc, path)}: {type(exc).__name__}: {_one_line(str(exc))}") from None
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise LoadError(f"{_where(exc, path)}: {type(exc).__name__}: {_one_line(str(exc))}") from None
    after = _config_snapshot()
    changes = {k: (before.get(k, "<unset>"), v) for k, v in after.items() if before.get(k) != v}
    return Implementation(target=target, name=name, module=module, path=path, config_changes=changes)
