"""Document 05's kernel recipe (a normal draw from nnx.Rngs(seed).params(), then scaled), and the
worked example's module for the framework properties."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from conformance.kit import strategies as cst
from conformance.kit.oracles import f64


def state_keys(state) -> list[str]:
    """Top-level names in an nnx State, whatever the release's State API."""
    return sorted(str(k) for k in state.keys()) if hasattr(state, "keys") else sorted(map(str, dict(state)))


@functools.cache
def _normal_draw(in_features: int, features: int):
    # Under nnx.jit: one compilation per shape, the contract's own nnx.Rngs(seed).
    return nnx.jit(lambda rngs: jax.random.normal(rngs.params(), (in_features, features)))


def multi_param_normal_draw(seed: int, in_features: int, features: int) -> np.ndarray:
    """normal(nnx.Rngs(seed).params(), (in, out)), before scaling."""
    return np.asarray(_normal_draw(in_features, features)(nnx.Rngs(seed)))


def scaled_normal_kernel(normal_draw: object, in_features: int) -> np.ndarray:
    """The recipe's kernel in float64: the standard-normal draw times 1/sqrt(in_features)."""
    return f64(normal_draw) / np.sqrt(float(in_features))


# --- the worked example, for the framework properties ----------------------------------


class DocMultiParam(nnx.Module):
    """The document's MultiParam, as its worked example writes it (Params used directly as operands)."""

    def __init__(self, in_features, out_features, rngs):
        key = rngs.params()
        self.kernel = nnx.Param(jax.random.normal(key, (in_features, out_features)) * (1.0 / jnp.sqrt(in_features)))
        self.bias = nnx.Param(jnp.zeros((out_features,)))
        self.count = nnx.Variable(jnp.array(0.0))

    def __call__(self, x):
        return x @ self.kernel + self.bias


class PresetMultiParam(DocMultiParam):
    """The worked example's module holding given arrays, count wrapped in ``counter`` (nnx.Variable as the
    document says, or nnx.Param as its first pitfall does). Built from NumPy: nothing compiles."""

    def __init__(self, kernel, bias, count, counter=nnx.Variable):
        self.kernel = nnx.Param(jax.device_put(np.asarray(kernel, np.float32)))
        self.bias = nnx.Param(jax.device_put(np.asarray(bias, np.float32)))
        self.count = counter(jax.device_put(np.float32(count)))


def preset(
    data_seed: int, in_features: int, features: int, *, count: float = 0.0, counter: type = nnx.Variable
) -> PresetMultiParam:
    """A PresetMultiParam with a standard-normal kernel and bias drawn from ``data_seed``."""
    return PresetMultiParam(
        cst.normal_array(data_seed, (in_features, features)) / np.sqrt(in_features),
        cst.normal_array(data_seed + 1, (features,)),
        count,
        counter,
    )


@functools.cache
def _bias_free_linear_builder(in_features: int, features: int):
    return nnx.jit(lambda rngs: nnx.Linear(in_features, features, use_bias=False, rngs=rngs))


def bias_free_linear_kernel(seed: int, in_features: int, features: int) -> np.ndarray:
    """Kernel of nnx.Linear(in, features, use_bias=False, rngs=nnx.Rngs(seed)): Flax's own bias-less Linear."""
    return np.asarray(_bias_free_linear_builder(in_features, features)(nnx.Rngs(seed)).kernel[...])
