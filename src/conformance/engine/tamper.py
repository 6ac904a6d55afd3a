"""Noticing, in the judging process, that implementation code changed the judge.

An implementation runs in the same process as the properties that judge it, so
it can rebind what they call: ``assert_close`` in a property module that
imported it by name, ``np.allclose``, a method of pytest's reports. A
:class:`Snapshot` holds, taken before the implementation is imported, every
binding that decides a verdict:

- in the suite's own modules (``conformance.*`` but the bundled
  implementations), every module-level binding but the suite's declared state
  (:data:`SUITE_STATE`), and the callables of the classes they define;
- in every other module then loaded (NumPy, JAX, Flax, Hypothesis, pytest, the
  standard library), every binding of a callable or a module, and the callables
  of the classes each module defines;
- of every function among those, its code, defaults and closure; of the suite's
  functions, their attributes (Hypothesis keeps a test's settings and inner test
  there), and those attributes' own attributes;
- extra probes given by the caller (the pytest plugin manager's hooks, the loaded
  Hypothesis profile), compared by identity or equality.

:meth:`Snapshot.changes` lists what differs now, one readable line each. New
modules, and what libraries add to their own namespaces later (JAX and NumPy
import submodules lazily), are not changes; names added to the suite's modules
are, except submodules. What a check taken at two moments cannot see (a change
made and undone between them, the contents of mutable objects) is stated in the
README's "Untrusted implementations".
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import FunctionType, MappingProxyType, ModuleType
from typing import Any

SUITE = "conformance"
# Implementation code that ships with the suite: judged, not part of the judge.
NOT_THE_JUDGE = ("conformance.implementations",)
# Module-level state the suite itself rebinds after the implementation is imported (a property's log and
# tolerance audit, the worker's memory budget). What it rebinds before (the shape pool, the precision) is
# watched like the rest: tests/test_tampering.py holds every `global` of the suite to one list or the other.
SUITE_STATE = {
    "conformance.kit.assertions": {"AUDIT"},
    "conformance.engine.registry": {"CURRENT"},
    "conformance.engine.memory": {"_budget_mib"},
}
# Bindings pytest swaps around every test (its capture of warnings, its assertion explanations).
VOLATILE = {
    "warnings": {"showwarning", "_showwarnmsg_impl", "_showwarnmsg"},
    "_pytest.assertion.util": {"_reprcompare", "_assertion_pass", "_config"},
}
# Interpreter state, not code: pytest swaps sys.stdout and the hooks of threads and exceptions around tests.
UNWATCHED_MODULES = frozenset({"sys", "__main__"})
# What every property's verdict goes through, checked after each property; the rest of the process is
# checked after the implementation's import and at the end of the run.
CORE = (
    SUITE,
    "numpy",
    "jax",
    "jaxlib",
    "flax",
    "chex",
    "hypothesis",
    "_hypothesis_globals",
    "pytest",
    "_pytest",
    "pluggy",
    "xdist",
    "execnet",
    "builtins",
    "json",
    "math",
    "operator",
    "functools",
)

_MISSING = object()
# What a function runs: replacing any of these changes it without rebinding it.
_function_state = operator.attrgetter("__code__", "__defaults__", "__kwdefaults__")


def is_suite_module(name: str) -> bool:
    return (name == SUITE or name.startswith(SUITE + ".")) and not name.startswith(NOT_THE_JUDGE)


def _in_core(name: str) -> bool:
    return any(name == top or name.startswith(top + ".") for top in CORE)


def _behavioural(value: Any) -> bool:
    """A binding whose identity decides what runs: code, classes and modules (data is the libraries' own state)."""
    return callable(value) or isinstance(value, (ModuleType, staticmethod, classmethod, property))


def _is_submodule(module_name: str, key: str, value: Any) -> bool:
    return isinstance(value, ModuleType) and value.__name__ == f"{module_name}.{key}"


def origin(value: Any) -> str:
    """Where a value comes from: ``module.qualname`` and, for Python code, file:line."""
    if isinstance(value, ModuleType):
        return f"module {value.__name__}"
    code = getattr(value, "__code__", None)
    name = f"{getattr(value, '__module__', None) or '?'}.{getattr(value, '__qualname__', type(value).__name__)}"
    return f"{name} ({code.co_filename}:{code.co_firstlineno})" if code is not None else name


def _closure(fn: FunctionType) -> tuple[int, ...]:
    """What a function's closure holds, by identity."""
    return tuple(id(c.cell_contents) if _filled(c) else 0 for c in fn.__closure__ or ())


def _wrapped(value: Any) -> FunctionType | None:
    """The function a wrapper object calls, read from its own ``__dict__`` (no attribute lookup runs code)."""
    attrs = getattr(value, "__dict__", None) if not isinstance(value, (type, ModuleType)) else None
    wrapped = attrs.get("__wrapped__") if type(attrs) is dict else None
    return wrapped if isinstance(wrapped, FunctionType) else None


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


@dataclass
class _Namespace:
    """The watched names of one namespace: a module's dict, a class's, a function's attributes."""

    label: str
    owner: str  # the module it belongs to
    mapping: Any  # the live mapping: a dict, or a class's mappingproxy
    keys: list[str]
    values: list[Any]
    names: frozenset[str] | None = None  # all names, where an added one can count
    cls: type | None = None  # for a class: an added name counts where it overrides an inherited one

    def _added_counts(self, key: str, value: Any) -> bool:
        if self.cls is not None:
            return _behavioural(value) and any(key in vars(base) for base in self.cls.__mro__[1:])
        return not key.startswith("__") and not _is_submodule(self.owner, key, value)

    def changes(self) -> list[str]:
        out = []
        for key, was in zip(self.keys, self.values):
            if key not in self.mapping:
                out.append(f"{self.label}.{key} was deleted")
            elif self.mapping[key] is not was:
                out.append(f"{self.label}.{key} was rebound to {origin(self.mapping[key])}")
        for key in sorted(set(self.mapping) - self.names) if self.names is not None else ():
            if self._added_counts(key, self.mapping[key]):
                out.append(f"{self.label}.{key} was added ({origin(self.mapping[key])})")
        return out


@dataclass
class _Scope:
    """Watched bindings and functions in flat lists, compared in one pass of ``map`` at C speed.

    A check after every property goes over tens of thousands of bindings; a loop
    in Python would cost several times as much.
    """

    namespaces: list[_Namespace] = field(default_factory=list)
    dicts: tuple[list[Any], list[str], list[Any]] = field(default_factory=lambda: ([], [], []))
    proxies: tuple[list[Any], list[str], list[Any]] = field(default_factory=lambda: ([], [], []))
    sized: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    functions: list[FunctionType] = field(default_factory=list)
    function_labels: list[str] = field(default_factory=list)
    function_states: list[tuple[Any, Any, Any]] = field(default_factory=list)
    closures: list[tuple[str, FunctionType, tuple[int, ...]]] = field(default_factory=list)

    def add_namespace(self, ns: _Namespace) -> None:
        self.namespaces.append(ns)
        mappings, keys, values = self.proxies if isinstance(ns.mapping, MappingProxyType) else self.dicts
        mappings += [ns.mapping] * len(ns.keys)
        keys += ns.keys
        values += ns.values
        if ns.names is not None:
            self.sized.append((ns.mapping, len(ns.names)))

    def add_function(self, label: str, fn: FunctionType, closure: bool) -> None:
        self.functions.append(fn)
        self.function_labels.append(label)
        self.function_states.append(_function_state(fn))
        if closure:
            self.closures.append((label, fn, _closure(fn)))

    def unchanged(self) -> bool:
        for get, (mappings, keys, values) in ((dict.get, self.dicts), (MappingProxyType.get, self.proxies)):
            if any(map(operator.is_not, map(get, mappings, keys), values)):
                return False
        try:  # a defaults tuple swapped for one holding arrays cannot be compared with ==
            same_functions = not any(map(operator.ne, map(_function_state, self.functions), self.function_states))
        except Exception:
            return False
        return (
            same_functions
            and all(len(ns) == size for ns, size in self.sized)
            and all(_closure(fn) == cells for _, fn, cells in self.closures)
        )

    def changes(self) -> list[str]:
        if self.unchanged():
            return []
        out = [line for ns in self.namespaces for line in ns.changes()]
        for label, fn, state in zip(self.function_labels, self.functions, self.function_states):
            if not _same(_function_state(fn), state):
                out.append(f"{label} had its code or defaults replaced (now {origin(fn)})")
        out += [f"{label} had what its closure holds replaced" for label, fn, c in self.closures if _closure(fn) != c]
        # Names libraries add to their own classes later (caches, flags) are not changes: take the
        # namespaces' sizes again so that the next check is a fast one.
        self.sized = [(mapping, len(mapping)) for mapping, _ in self.sized]
        return out


class Snapshot:
    """The judge's bindings at one moment; see the module docstring for what is in it."""

    def __init__(self, probes: dict[str, Callable[[], Any]] | None = None) -> None:
        self.core = _Scope()
        self.rest = _Scope()
        self.modules: dict[str, ModuleType] = {}
        self.probes = {label: (probe, probe()) for label, probe in (probes or {}).items()}

    @classmethod
    def take(cls, probes: dict[str, Callable[[], Any]] | None = None, exclude: Iterable[str] = ()) -> Snapshot:
        """Every module now loaded but ``exclude`` (the names of modules the implementation brought)."""
        snap = cls(probes)
        skip = frozenset(exclude)
        seen: set[int] = set()
        for name, module in list(sys.modules.items()):
            if not isinstance(module, ModuleType) or name in UNWATCHED_MODULES or name in skip:
                continue
            if name.startswith(NOT_THE_JUDGE):
                continue
            snap.modules[name] = module
            snap._watch_module(snap.core if _in_core(name) else snap.rest, name, module, seen)
        return snap

    def _watch_module(self, scope: _Scope, name: str, module: ModuleType, seen: set[int]) -> None:
        ns = vars(module)
        suite = is_suite_module(name)
        own_state = SUITE_STATE.get(name, set()) | VOLATILE.get(name, set())
        keys = [
            k
            for k, v in list(ns.items())
            if k not in own_state
            and not (k.startswith("__") and k != "__getattr__")
            and (suite or _behavioural(v))
            and not _is_submodule(name, k, v)
        ]
        scope.add_namespace(_Namespace(name, name, ns, keys, [ns[k] for k in keys], frozenset(ns) if suite else None))
        for key in keys:
            value = ns[key]
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, type) and value.__module__ == name:
                self._watch_class(scope, name, f"{name}.{key}", value, seen, suite)
            elif isinstance(value, FunctionType):
                self._watch_function(scope, name, f"{name}.{key}", value, suite)
            elif (wrapped := _wrapped(value)) is not None and id(wrapped) not in seen:
                # NumPy's dispatchers, jax.jit, functools.cache: the Python function they call
                seen.add(id(wrapped))
                self._watch_function(scope, name, f"{name}.{key}.__wrapped__", wrapped, suite)

    def _watch_class(self, scope: _Scope, owner: str, label: str, cls: type, seen: set[int], suite: bool) -> None:
        ns = vars(cls)
        keys = [k for k, v in list(ns.items()) if _behavioural(v) and k not in ("__dict__", "__weakref__")]
        scope.add_namespace(_Namespace(label, owner, ns, keys, [ns[k] for k in keys], frozenset(ns), cls))
        for key in keys:
            value = ns[key]
            if isinstance(value, FunctionType) and id(value) not in seen:
                seen.add(id(value))
                self._watch_function(scope, owner, f"{label}.{key}", value, suite)

    def _watch_function(self, scope: _Scope, owner: str, label: str, fn: FunctionType, suite: bool) -> None:
        scope.add_function(label, fn, closure=suite)
        attrs = fn.__dict__
        keys = [k for k in attrs if k != "__wrapped__"] if suite else []
        if keys:
            scope.add_namespace(_Namespace(label, owner, attrs, keys, [attrs[k] for k in keys]))
        for key in keys:  # Hypothesis' handle on a property: its inner_test is what runs
            value = attrs[key]
            inner = getattr(value, "__dict__", None)
            if isinstance(inner, dict) and not isinstance(value, (type, ModuleType, FunctionType)):
                code = [k for k, v in inner.items() if _behavioural(v)]  # not caches (a settings' database)
                if code:
                    scope.add_namespace(_Namespace(f"{label}.{key}", owner, inner, code, [inner[k] for k in code]))

    def changes(self, *, everything: bool = True) -> list[str]:
        """What differs now, one line each; empty when the judge is as it was.

        ``everything=False`` checks only :data:`CORE` (and the probes), a few
        times faster: what runs after every property.
        """
        out = [
            f"sys.modules[{name!r}] was replaced by {origin(sys.modules[name])}"
            for name, module in self.modules.items()
            if sys.modules.get(name, module) is not module
        ]
        out += self.core.changes()
        if everything:
            out += self.rest.changes()
        for label, (probe, was) in self.probes.items():
            now = probe()
            if now != was:
                out.append(f"{label} changed: {was!r} -> {now!r}")
        return out
