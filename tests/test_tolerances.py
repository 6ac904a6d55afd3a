"""The derived bounds hold for real float32 computations, and are tight enough to catch real errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conformance.kit import oracles, tolerances
from conformance.properties.doc01_shared_dense.oracles import shared_dense


@pytest.mark.parametrize("width", [1, 3, 32, 256])
def test_dense_chain_bound_covers_float32_and_is_far_below_a_real_defect(width):
    rng = np.random.default_rng(width)
    x = rng.standard_normal((4, width)).astype(np.float32)
    k = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
    b = rng.standard_normal(width).astype(np.float32)
    h = jnp.maximum(jnp.asarray(x) @ k + b, 0)
    got = np.asarray(jnp.maximum(h @ k + b, 0))
    expected = shared_dense(x, k, b)
    tol = tolerances.dense_chain(x, [(k, b), (k, b)])
    assert (np.abs(got - expected) <= tol.bound).all(), "a correct float32 result exceeds its own bound"
    # A defect as small as a transposed kernel moves the result by O(1): far outside the bound.
    wrong = oracles.relu(oracles.dense(oracles.relu(oracles.dense(x, k, b)), k.T, b))
    if width > 1:
        assert (np.abs(wrong - expected) > tol.bound).any(), "the bound is too loose to see a transposed kernel"
    # The measured drift keeps the bound near float32's real error, far below a percent of the output.
    assert tol.bound.max() < 1e-3 * max(1.0, np.abs(expected).max()), f"bound {tol.bound.max()} is not float32-tight"


@jax.jit
def _relu_chain(x, k, b):
    return jnp.maximum(jnp.maximum(x @ k + b, 0) @ k + b, 0)


def _shapes(count: int):
    """(rows, width) over the pools' whole range, the edge cases first."""
    rng = np.random.default_rng(15)
    yield from ((1, 1), (64, 1), (1, 512), (64, 512), (7, 2))
    for _ in range(count):
        yield int(rng.integers(1, 65)), int(rng.choice([rng.integers(1, 513), 2 ** rng.integers(0, 10)]))


def test_xla_float32_stays_inside_the_measured_bound_at_every_size():
    """The measured bound comes from NumPy's float32; XLA sums in other orders (blocked, FMA) and must
    stay inside it, at every size and input scale the pools draw, or the bound would reject correct code."""
    worst = 0.0
    for i, (n, width) in enumerate(_shapes(40)):
        rng = np.random.default_rng(i)
        scale = (1.0, 0.1, 10.0)[i % 3]
        x = (scale * rng.standard_normal((n, width))).astype(np.float32)
        k = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
        b = (0.5 * rng.standard_normal(width)).astype(np.float32)
        got = np.asarray(_relu_chain(x, k, b), np.float64)
        expected = shared_dense(x, k, b)
        bound = tolerances.dense_chain(x, [(k, b), (k, b)]).bound
        used = float((np.abs(got - expected) / np.maximum(bound, 1e-300)).max())
        worst = max(worst, used)
        assert used <= 1.0, f"XLA's float32 result at rows={n}, width={width} uses {used:.2f} of its bound"
    print(f"largest share of the measured bound that XLA's float32 used: {worst:.3f}")


@pytest.mark.parametrize("width", [64, 512])
def test_a_one_in_a_thousand_error_fails_the_bound(width):
    rng = np.random.default_rng(width)
    x = rng.standard_normal((8, width)).astype(np.float32)
    k = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
    b = rng.standard_normal(width).astype(np.float32)
    expected = shared_dense(x, k, b)
    tol = tolerances.dense_chain(x, [(k, b), (k, b)])
    assert (np.abs(1e-3 * expected) > tol.bound).any(), "an output off by 0.1% passes the bound"


def test_derivation_is_stated():
    tol = tolerances.dense_chain(np.ones((1, 3)), [(np.ones((3, 3)), None)])
    assert "gamma_k" in tol.derivation and "2^-24" in tol.derivation and "float32" in tol.derivation
    assert "measured" in tol.derivation and "contraction orders" in tol.derivation


def test_unit_roundoff_follows_the_dtype():
    assert tolerances.unit_roundoff(np.float32) == 2.0**-24
    assert tolerances.unit_roundoff(np.float64) == 2.0**-53
    assert tolerances.unit_roundoff(np.float16) == 2.0**-11
