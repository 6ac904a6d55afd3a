"""Compiled calls into Linen and nnx modules, cached per class and size.

Calling ``model.init``/``model.apply`` eagerly dispatches every primitive from
Python, and compiles each one again for every new shape. Under ``jax.jit``,
cached here by (module class, constructor arguments), an example costs one
compiled call and each (class, shape) compiles once per process. Conforming
Flax modules are jittable, so this demands nothing the documents don't.
Inputs go in as NumPy arrays: jit transfers them, whereas ``jnp.asarray``
outside jit compiles a copy for every new shape.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

# Calls whose results are compared within a tolerance compile at XLA's lowest
# optimisation level: for the small programs of a conformance run, compiling
# costs far more than running, and the level changes fusion, which every
# tolerance allows for. Initialisations keep jax.jit's defaults: their params are
# compared bit for bit, and the level moves the last bit of a truncated-normal
# draw (tests/test_constructions.py). JAX releases without
# jit(compiler_options=) compile everything with the defaults.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
_JIT_TAKES_OPTIONS = "compiler_options" in inspect.signature(jax.jit).parameters


def fast_jit(fn: Callable[..., Any], **jit_kwargs: Any) -> Callable[..., Any]:
    """``jax.jit(fn, **jit_kwargs)``, compiled with :data:`FAST_COMPILE`."""
    if _JIT_TAKES_OPTIONS:
        jit_kwargs["compiler_options"] = FAST_COMPILE
    return jax.jit(fn, **jit_kwargs)


# --- structure, nothing compiled ----------------------------------------------


def once_per_shape(check: Callable[..., Any]) -> Callable[..., Any]:
    """Cache a structure check by its (hashable) arguments, its failure included.

    A structural claim cannot depend on a seed, so it is traced once per shape;
    a failing check is not traced again for every example Hypothesis tries
    while it shrinks the other arguments: the same AssertionError is raised.
    """
    outcomes: dict[tuple[Any, ...], tuple[bool, Any]] = {}

    @functools.wraps(check)
    def cached(*args: Any) -> Any:
        if args not in outcomes:
            try:
                outcomes[args] = (True, check(*args))
            except AssertionError as exc:
                outcomes[args] = (False, str(exc))
        ok, value = outcomes[args]
        if ok:
            return value
        raise AssertionError(value)  # a new exception each time: a re-raised one would grow its traceback

    return cached


# A raw PRNG key as jax.eval_shape sees it: a uint32[2] with no value.
_ABSTRACT_KEY = jax.ShapeDtypeStruct((2,), jnp.uint32)


def abstract_init(model: Any, *input_shapes: tuple[int, ...]) -> Any:
    """``jax.eval_shape(model.init, key, *inputs)`` for float32 inputs of these shapes.

    The key is abstract, so the variables' structure depends on the module's
    configuration and the input shapes alone, never on a seed: a structural
    property draws shapes, and meets each one once.
    """
    inputs = (jax.ShapeDtypeStruct(shape, jnp.float32) for shape in input_shapes)
    return jax.eval_shape(model.init, _ABSTRACT_KEY, *inputs)


def _freeze(kwargs: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(kwargs.items()))


@functools.cache
def _init_apply(model_cls: type, frozen: tuple[tuple[str, Any], ...]) -> Callable[..., Any]:
    model = model_cls(**dict(frozen))

    def run(key, x):
        variables = model.init(key, x)
        return variables, model.apply(variables, x)

    return jax.jit(run)  # params are compared exactly: default options


def init_apply(model_cls: type, key: jax.Array, x: Any, **kwargs: Any) -> tuple[Any, Any]:
    """``variables = Model(**kwargs).init(key, x)`` and ``Model(**kwargs).apply(variables, x)``."""
    return _init_apply(model_cls, _freeze(kwargs))(key, np.asarray(x))


@functools.cache
def _apply(model_cls: type, frozen: tuple[tuple[str, Any], ...]) -> Callable[..., Any]:
    return fast_jit(model_cls(**dict(frozen)).apply)


def apply(model_cls: type, variables: Any, x: Any, **kwargs: Any) -> Any:
    return _apply(model_cls, _freeze(kwargs))(variables, np.asarray(x))


@functools.cache
def _grad_of_sum(model_cls: type, frozen: tuple[tuple[str, Any], ...]) -> Callable[..., Any]:
    model = model_cls(**dict(frozen))
    return fast_jit(jax.grad(lambda variables, x: jnp.sum(model.apply(variables, x))))


def grad_of_sum(model_cls: type, variables: Any, x: Any, **kwargs: Any) -> Any:
    """Gradient of ``sum(model.apply(variables, x))`` with respect to all variables."""
    return _grad_of_sum(model_cls, _freeze(kwargs))(variables, np.asarray(x))


# --- nnx modules ---------------------------------------------------------------
# nnx.jit carries the Rngs state in and the built (or mutated) module out, so a
# construction or a call costs one compilation per (class, shape). A module
# whose constructor or __call__ cannot be traced (it reads a value in Python)
# is still a conforming module: it is built or called eagerly instead.


@functools.cache
def _nnx_builder(module_cls: type, args: tuple[Any, ...]) -> Callable[..., Any]:
    return nnx.jit(lambda rngs: module_cls(*args, rngs=rngs))


def build_nnx(module_cls: type, *args: Any, seed: int) -> Any:
    """``module_cls(*args, rngs=nnx.Rngs(seed))``, a concrete module."""
    try:
        return _nnx_builder(module_cls, args)(nnx.Rngs(seed))
    except jax.errors.JAXTypeError:  # the constructor needs concrete values
        return module_cls(*args, rngs=nnx.Rngs(seed))


@functools.cache
def _nnx_caller() -> Callable[..., Any]:
    return nnx.jit(lambda module, x: module(x))


def nnx_call(module: Any, x: Any) -> Any:
    """``module(x)``; whatever the call changes in the module's state stays changed."""
    try:
        return _nnx_caller()(module, np.asarray(x))
    except jax.errors.JAXTypeError:  # __call__ needs concrete values
        return module(x)


# --- across runs ----------------------------------------------------------------


def persist_compilations(directory: str) -> None:
    """Keep every XLA executable in ``directory`` for later runs (JAX's persistent compilation cache).

    JAX's defaults skip programs that compile in under a second, which is all of
    a conformance run's; here every one is kept. Entries are keyed by the program,
    the compile options and the JAX/jaxlib version, so a stale one is never used.
    """
    from jax.experimental.compilation_cache import compilation_cache

    jax.config.update("jax_compilation_cache_dir", directory)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    # Code that compiled before this call (an implementation's import) may have
    # initialised the cache as absent; start it again with the directory.
    compilation_cache.reset_cache()
