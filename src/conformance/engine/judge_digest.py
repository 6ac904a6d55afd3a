"""A digest of the judge's code that two processes can compare, and the seal on a worker's verdicts.

:mod:`conformance.engine.tamper` compares objects by identity, which only means
something inside one process. Here each binding is described by what it is:
a function by its module, name, the file and line its code was written at, its
signature's size and its defaults; a class by its name and, for the suite's
own, its methods; a builtin by its name; a constant by its value. (Not by
bytecode: pytest rewrites asserts in the processes it imports modules into, and
the suite's files are hashed apart, :mod:`conformance.engine.suite_files`.) The
controlling process, which never imports the implementation, describes its own
copy of the judge and sends the workers the names to describe; each verdict a
worker sends carries the worker's digest of the same names and an HMAC over both
under a key of the run. A verdict whose digest differs (a helper rebound in a
property module, a patched NumPy function, a function given other code or
defaults) or whose seal does not hold (a hook rewrote the verdict on its way
out) is ``tampered``.

Code in the worker can still compute a correct digest before it patches and
seal a forged verdict with the key it can read: this raises the bar from
"rebind a helper" to "reimplement the suite's own protocol", no further
(README, "Untrusted implementations").
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import operator
import sys
from types import BuiltinFunctionType, FunctionType, ModuleType
from typing import Any

from conformance.engine.tamper import SUITE_STATE, is_suite_module

# The libraries' namespaces whose functions the oracles, the assertions and the harness call by name.
LIBRARY_NAMESPACES = (
    "builtins",
    "math",
    "json",
    "numpy",
    "numpy.linalg",
    "numpy.testing",
    "jax",
    "jax.numpy",
    "jax.random",
    "jax.nn",
    "jax.lax",
    "jax.tree_util",
    "flax.linen",
    "flax.nnx",
    "chex",
    "hypothesis",
    "hypothesis.strategies",
    "pytest",
)
# The judge's own code: what a worker runs to reach a verdict (the commands only run in the controller).
JUDGE_PACKAGES = ("conformance.kit", "conformance.engine", "conformance.properties")

_SCALARS = (int, float, complex, str, bytes, bool, type(None))


def _judge_module(name: str) -> bool:
    return is_suite_module(name) and any(name == p or name.startswith(p + ".") for p in JUDGE_PACKAGES)


def names_to_digest() -> dict[str, list[str]]:
    """Module -> the names a worker describes: the judge's loaded modules in full, the libraries' callables."""
    out = {}
    for name, module in sorted(sys.modules.items()):
        if not isinstance(module, ModuleType) or not (_judge_module(name) or name in LIBRARY_NAMESPACES):
            continue
        ns = vars(module)
        own = SUITE_STATE.get(name, set())
        out[name] = sorted(
            k
            for k, v in list(ns.items())
            if not k.startswith("__")
            and k not in own
            and (is_suite_module(name) or callable(v))
            and not (isinstance(v, ModuleType) and v.__name__ == f"{name}.{k}")  # submodules come and go
        )
    return out


def _value(value: Any) -> str:
    if isinstance(value, _SCALARS):
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ",".join(map(_value, value)) + ")"
    if isinstance(value, frozenset):  # iteration order follows the process's hash seed
        return "frozenset(" + ",".join(sorted(map(_value, value))) + ")"
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def _name(value: Any) -> str:
    return f"{getattr(value, '__module__', None)}.{getattr(value, '__qualname__', getattr(value, '__name__', '?'))}"


def _function(fn: FunctionType) -> str:
    defaults = _value(fn.__defaults__) + _value(tuple(sorted((fn.__kwdefaults__ or {}).items())))
    code = fn.__code__
    # Where the code was written, not its bytecode: pytest rewrites the asserts of test modules and of its
    # plugins' packages in the processes it imports them into (the workers), not in the controlling one.
    return f"fn {_name(fn)} {code.co_filename}:{code.co_firstlineno} {code.co_argcount}/{code.co_kwonlyargcount} {defaults}"


def describe(value: Any, *, depth: int = 0) -> str:
    """What a binding is, the same in every process that holds the same code."""
    if isinstance(value, FunctionType):
        return _function(value)
    if isinstance(value, ModuleType):
        return f"module {value.__name__}"
    if isinstance(value, type):
        if depth or not is_suite_module(value.__module__ or ""):
            return f"class {_name(value)}"
        members = sorted(
            (k, describe(v.__func__ if isinstance(v, (staticmethod, classmethod)) else v, depth=1))
            for k, v in list(vars(value).items())
            if isinstance(v, (FunctionType, staticmethod, classmethod, property))
        )
        return f"class {_name(value)} {members}"
    if isinstance(value, property):
        return "property " + " ".join(describe(f, depth=1) for f in (value.fget, value.fset) if f is not None)
    if isinstance(value, BuiltinFunctionType):
        return f"builtin {_name(value)}"
    if callable(value):
        wrapped = _wrapped(value)
        inner = f" wraps {describe(wrapped, depth=1)}" if wrapped is not None else ""
        return f"{type(value).__module__}.{type(value).__qualname__} {getattr(value, '__name__', '')}{inner}"
    return _value(value)


def _wrapped(value: Any) -> FunctionType | None:
    attrs = getattr(value, "__dict__", None)
    wrapped = attrs.get("__wrapped__") if type(attrs) is dict else None
    return wrapped if isinstance(wrapped, FunctionType) else None


def _depends_on(value: Any) -> tuple[Any, ...] | None:
    """The objects a description is made from; while they are the very same objects, so is the description.

    None for data, whose description is its value (cheap, and not to be trusted to identity).
    """
    if isinstance(value, FunctionType):
        return (value, value.__code__, value.__defaults__, value.__kwdefaults__)
    if isinstance(value, type):
        if not is_suite_module(value.__module__ or ""):
            return (value,)  # described by its name alone
        members = list(vars(value).values())
        return (value, *members, *(d for m in members if isinstance(m, FunctionType) for d in _depends_on(m)))
    if isinstance(value, ModuleType) or callable(value):
        wrapped = _wrapped(value)
        return (value, *_depends_on(wrapped)) if wrapped is not None else (value,)
    return None


# id(value) -> (what its description was made from, the description): a check after every property
# describes thousands of bindings, nearly all of them unchanged.
_DESCRIPTIONS: dict[int, tuple[tuple[Any, ...], str]] = {}


def _described(value: Any) -> str:
    made_of = _depends_on(value)
    if made_of is None:
        return describe(value)
    cached = _DESCRIPTIONS.get(id(value))
    if cached is not None and len(cached[0]) == len(made_of) and all(map(operator.is_, cached[0], made_of)):
        return cached[1]
    text = describe(value)
    _DESCRIPTIONS[id(value)] = (made_of, text)
    return text


def digest(names: dict[str, list[str]]) -> dict[str, str]:
    """Module -> a digest of what ``names`` are bound to in this process."""
    out = {}
    for module_name, keys in names.items():
        module = sys.modules.get(module_name)
        if module is None:
            try:  # a judge module this process has no use for yet: its code is on disk like the rest
                module = importlib.import_module(module_name)
            except Exception as exc:
                out[module_name] = f"unimportable: {type(exc).__name__}"
                continue
        ns = vars(module)
        h = hashlib.sha1()
        for key in keys:
            h.update(f"{key}={_described(ns[key]) if key in ns else '<missing>'}\n".encode())
        out[module_name] = h.hexdigest()[:16]
    return out


def differences(expected: dict[str, str], got: Any) -> list[str]:
    """The modules whose digest in a worker is not the controller's."""
    if not isinstance(got, dict):
        return ["the verdict carries no digest of the judge"]
    return [f"{m} differs from the judge's own copy" for m, d in expected.items() if got.get(m) != d]


def seal(key: str, payload: str, module_digest: dict[str, str]) -> str:
    message = payload.encode() + b"\0" + json.dumps(module_digest, sort_keys=True).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def seal_holds(key: str, payload: str, module_digest: Any, claimed: Any) -> bool:
    if not isinstance(module_digest, dict) or not isinstance(claimed, str):
        return False
    return hmac.compare_digest(seal(key, payload, module_digest), claimed)
