"""The derived bounds hold for real float32 computations, and are tight enough to catch real errors."""

from __future__ import annotations

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
    # Worst-case bounds grow with the width k; at k=256 they are still ~1e-3 relative.
    assert tol.bound.max() < 1e-2 * max(1.0, np.abs(expected).max()), f"bound {tol.bound.max()} is not float32-tight"


def test_derivation_is_stated():
    tol = tolerances.dense_chain(np.ones((1, 3)), [(np.ones((3, 3)), None)])
    assert "gamma_k" in tol.derivation and "2^-24" in tol.derivation and "float32" in tol.derivation


def test_unit_roundoff_follows_the_dtype():
    assert tolerances.unit_roundoff(np.float32) == 2.0**-24
    assert tolerances.unit_roundoff(np.float64) == 2.0**-53
    assert tolerances.unit_roundoff(np.float16) == 2.0**-11
