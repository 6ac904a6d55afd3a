"""Compiled calls into an implementation's Linen modules, cached per class and size.

Calling ``model.init``/``model.apply`` eagerly dispatches every primitive from
Python, and compiles each one again for every new shape. Under ``jax.jit``,
cached here by (module class, constructor arguments), an example costs one
compiled call and each (class, shape) compiles once per process. Conforming
Flax modules are jittable, so this demands nothing the documents don't.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp


def _freeze(kwargs: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(kwargs.items()))


@functools.cache
def _init_apply(model_cls: type, frozen: tuple[tuple[str, Any], ...]) -> Callable[..., Any]:
    model = model_cls(**dict(frozen))

    def run(key, x):
        variables = model.init(key, x)
        return variables, model.apply(variables, x)

    return jax.jit(run)


def init_apply(model_cls: type, key: jax.Array, x: Any, **kwargs: Any) -> tuple[Any, Any]:
    """``variables = Model(**kwargs).init(key, x)`` and ``Model(**kwargs).apply(variables, x)``."""
    return _init_apply(model_cls, _freeze(kwargs))(key, jnp.asarray(x))


@functools.cache
def _apply(model_cls: type, frozen: tuple[tuple[str, Any], ...]) -> Callable[..., Any]:
    return jax.jit(model_cls(**dict(frozen)).apply)


def apply(model_cls: type, variables: Any, x: Any, **kwargs: Any) -> Any:
    return _apply(model_cls, _freeze(kwargs))(variables, jnp.asarray(x))


@functools.cache
def _grad_of_sum(model_cls: type, frozen: tuple[tuple[str, Any], ...]) -> Callable[..., Any]:
    model = model_cls(**dict(frozen))
    return jax.jit(jax.grad(lambda variables, x: jnp.sum(model.apply(variables, x))))


def grad_of_sum(model_cls: type, variables: Any, x: Any, **kwargs: Any) -> Any:
    """Gradient of ``sum(model.apply(variables, x))`` with respect to all variables."""
    return _grad_of_sum(model_cls, _freeze(kwargs))(variables, jnp.asarray(x))
