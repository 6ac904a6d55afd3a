"""The suite's compiled constructions and calls give exactly what Flax gives when called eagerly.

Properties build their expected parameters under jit (each document's constructions module)
and call implementations' modules under jit or nnx.jit (conformance.compiled) so
that a run compiles once per shape. These tests hold that to the eager
construction a document's reader would write, so the speed-up cannot change a
verdict.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conformance.properties.doc01_shared_dense import constructions as doc01
from conformance.properties.doc02_vmap import constructions as doc02
from conformance.properties.doc03_nnx_bridge import constructions as doc03
from conformance.properties.doc05_nnx_state import constructions as doc05
from flax import linen as nn
from flax import nnx

from conformance.kit import compiled

CASES = [(0, 3, 3), (7, 8, 3), (2**31 - 1, 1, 32)]  # (seed, in, out): the largest seed the strategies draw


@pytest.mark.parametrize("seed, in_dim, features", CASES)
def test_linen_constructions_equal_eager_init(seed, in_dim, features):
    eager = nn.Dense(features).init(jax.random.PRNGKey(seed), jnp.zeros((1, in_dim)))["params"]
    built = doc02.dense_params(seed, in_dim, features)
    for name in ("kernel", "bias"):
        np.testing.assert_array_equal(built[name], eager[name], err_msg=f"dense_params {name}")
    doc = doc01.DocSharedDense(features).init(jax.random.PRNGKey(seed), jnp.zeros((1, features)))
    built = doc01.shared_dense_params(seed, features)
    for name in ("kernel", "bias"):
        np.testing.assert_array_equal(built[name], doc["params"]["shared"][name], err_msg=f"shared_dense_params {name}")
    zeros = nn.initializers.zeros_init()
    eager = nn.Dense(features, kernel_init=zeros).init(jax.random.PRNGKey(seed), jnp.zeros((1, in_dim)))["params"]
    built = doc03.linen_dense_with_bias(seed, in_dim, features)["params"]
    for name in ("kernel", "bias"):
        np.testing.assert_array_equal(built[name], eager[name], err_msg=f"linen_dense_with_bias {name}")


@pytest.mark.parametrize("seed, in_dim, features", CASES)
def test_nnx_constructions_equal_eager_construction(seed, in_dim, features):
    eager = nnx.Linear(in_dim, features, use_bias=False, rngs=nnx.Rngs(seed))
    np.testing.assert_array_equal(doc03.nnx_linear_kernel(seed, in_dim, features), eager.kernel[...])
    draw = jax.random.normal(nnx.Rngs(seed).params(), (in_dim, features))
    np.testing.assert_array_equal(doc05.multi_param_normal_draw(seed, in_dim, features), draw)
    np.testing.assert_array_equal(doc05.bias_free_linear_kernel(seed, in_dim, features), eager.kernel[...])


class _Counter(nnx.Module):
    def __init__(self, width, rngs):
        self.kernel = nnx.Param(jax.random.normal(rngs.params(), (width, width)))
        self.calls = nnx.Variable(jnp.zeros(()))

    def __call__(self, x):
        self.calls[...] = self.calls[...] + 1
        return x @ self.kernel[...]


class _Untraceable(_Counter):
    """Reads values in Python: fine eagerly, impossible under jit."""

    def __init__(self, width, rngs):
        super().__init__(width, rngs)
        self.positive = bool(self.kernel[...].sum() > 0)

    def __call__(self, x):
        if float(x.sum()) > 1e9:
            raise AssertionError("unreachable")
        return super().__call__(x)


@pytest.mark.parametrize("cls", [_Counter, _Untraceable])
def test_nnx_build_and_call_match_eager_and_keep_state_changes(cls):
    x = np.arange(3, dtype=np.float32)
    built, eager = compiled.build_nnx(cls, 3, seed=5), cls(3, rngs=nnx.Rngs(5))
    np.testing.assert_array_equal(built.kernel[...], eager.kernel[...])
    out = compiled.nnx_call(built, x)
    compiled.nnx_call(built, x)
    np.testing.assert_allclose(out, eager(x), rtol=1e-6)
    assert float(built.calls[...]) == 2.0, "a state change made inside the compiled call was lost"
