"""The derived bounds hold for real float32 computations, and are tight enough to catch real errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conformance.properties.doc01_shared_dense.oracles import near_relu_kink, shared_dense, shared_dense_grads
from conformance.properties.doc02_vmap.oracles import running_mean

from conformance.kit import oracles, tied_embedding, tolerances


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
    # The drift bound keeps the bound near float32's real error, far below a percent of the output.
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


def test_xla_float32_stays_inside_the_drift_bound_at_every_size():
    """The drift bound comes from NumPy's float32; XLA sums in other orders (blocked, FMA) and must
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
    print(f"largest share of the drift bound that XLA's float32 used: {worst:.3f}")


@pytest.mark.parametrize("width", [64, 512])
def test_a_one_in_a_thousand_error_fails_the_bound(width):
    rng = np.random.default_rng(width)
    x = rng.standard_normal((8, width)).astype(np.float32)
    k = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
    b = rng.standard_normal(width).astype(np.float32)
    expected = shared_dense(x, k, b)
    tol = tolerances.dense_chain(x, [(k, b), (k, b)])
    assert (np.abs(1e-3 * expected) > tol.bound).any(), "an output off by 0.1% passes the bound"


@jax.jit
def _shared_dense_grads(x, k, b):
    return jax.grad(lambda k, b: jnp.sum(_relu_chain(x, k, b)), argnums=(0, 1))(k, b)


def _dense_inputs(i: int, n: int, width: int):
    rng = np.random.default_rng(i)
    x = rng.standard_normal((n, width)).astype(np.float32)
    k = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
    return x, k, (0.5 * rng.standard_normal(width)).astype(np.float32)


def test_xla_gradients_stay_inside_their_drift_bound_and_a_small_error_does_not():
    """The shared kernel's gradient (document 01): XLA's backprop stays inside the bound at every size,
    and a gradient off by 0.1% at one call site falls outside it."""
    worst, checked = 0.0, 0
    for i, (n, width) in enumerate(_shapes(40)):
        x, k, b = _dense_inputs(i, n, width)
        if near_relu_kink(x, k, b, tolerances.dense_chain(x, [(k, b)]).bound):
            continue  # the properties skip these inputs: relu's derivative is not decidable there
        expected, tol = shared_dense_grads(x, k, b), tolerances.shared_dense_grads(x, k, b)
        for name, got in zip(("kernel", "bias"), _shared_dense_grads(x, k, b)):
            bound = tol[name].bound
            used = float((np.abs(np.asarray(got, np.float64) - expected[name]) / np.maximum(bound, 1e-300)).max())
            worst = max(worst, used)
            assert used <= 1.0, f"XLA's {name} gradient at rows={n}, width={width} uses {used:.2f} of its bound"
            site = expected[f"{name}_site1"]
            if np.abs(site).max() > 0:
                assert (np.abs(1e-3 * site) > bound).any(), f"a {name} gradient 0.1% off at one site passes"
        checked += 1
    assert checked >= 20, f"only {checked} inputs away from relu's kinks"
    print(f"largest share of the gradient bound that XLA used: {worst:.3f}")


@jax.jit
def _tied_grad(table, tokens, weights):
    return jax.grad(lambda e: jnp.sum(weights * (e[tokens] @ e.T)))(table)


def test_tied_embedding_gradient_bound_holds_for_xla_and_sees_a_missing_role():
    for vocab, d, n in ((1, 1, 1), (367, 4, 5), (512, 277, 5), (50, 64, 40)):
        rng = np.random.default_rng(vocab + d)
        table = rng.standard_normal((vocab, d)).astype(np.float32)
        tokens = rng.integers(0, vocab, n).astype(np.int32)
        weights = rng.standard_normal((n, vocab)).astype(np.float32)
        expected = tied_embedding.grads(tokens, table, weights)
        tol = tied_embedding.grads_tolerance(tokens, table, weights)
        got = np.asarray(_tied_grad(table, tokens, weights), np.float64)
        assert (np.abs(got - expected["total"]) <= tol.bound).all(), f"XLA's gradient exceeds its bound at {vocab}x{d}"
        # The projection role alone (a lookup that forgot its gradient) is far outside it.
        assert (np.abs(expected["projection"] - expected["total"]) > tol.bound).any(), (
            f"lookup role unseen, {vocab}x{d}"
        )
        assert tol.bound.max() < 1e-3 * np.abs(expected["total"]).max(), f"bound not float32-tight at {vocab}x{d}"


def test_batch_mean_bound_holds_for_xla_and_sees_one_row_left_out():
    for rows, d in ((2, 1), (64, 3), (512, 7), (1024, 512)):
        x = np.random.default_rng(rows).standard_normal((rows, d)).astype(np.float32)
        expected, tol = running_mean(x)
        got = np.float32(0.01) * np.asarray(jnp.mean(jnp.asarray(x), axis=0), np.float64)
        assert (np.abs(got - expected) <= tol.bound).all(), f"XLA's batch mean exceeds its bound at {rows}x{d}"
        short, _ = running_mean(x[1:])
        assert (np.abs(short - expected) > tol.bound).any(), f"a mean without the first row passes at {rows}x{d}"


def test_parameter_rounding_is_added_to_the_drift_bound():
    """A kernel the implementation derived in float32 (scaled by 1/sqrt(in)) is off by a few u per element:
    the bound allows exactly that, and stays far below the output."""
    x, k, _ = _dense_inputs(3, 1, 300)
    exact = k.astype(np.float64) / np.sqrt(300.0)
    rounded = k * (np.float32(1) / np.sqrt(np.float32(300)))
    tol = tolerances.dense_chain(x, [(exact, None)], param_rel_error=3 * tolerances.unit_roundoff())
    plain = tolerances.dense_chain(x, [(exact, None)])
    assert (tol.bound > plain.bound).all() and "parameter rounding" in tol.derivation
    got = np.asarray(jnp.asarray(x) @ rounded, np.float64)
    assert (np.abs(got - x.astype(np.float64) @ exact) <= tol.bound).all()
    assert tol.bound.max() < 1e-4 * np.abs(x.astype(np.float64) @ exact).max()


def test_a_width_one_chain_allows_one_rounding_of_the_hidden_value():
    """At width 1 every contraction order is the same, so the measurement is one sample of rounding luck.
    Here NumPy's float32 chain happens to be nearly exact, yet one ulp in the hidden value (an FMA, another
    rounding) moves the output by more than 16x its drift: the bound must still allow it."""
    x, k = np.array([[0.018144307658076286]], np.float32), np.array([[-1.002284288406372]], np.float32)
    b = np.array([1.394774079322815], np.float32)
    h1 = np.maximum(x.astype(np.float64) @ k + b, 0)
    hidden_one_ulp_up = np.nextafter(np.float32(h1[0, 0]), np.float32(np.inf)).astype(np.float64)
    off_by_one_ulp = np.maximum(hidden_one_ulp_up * k.astype(np.float64) + b, 0)
    bound = tolerances.dense_chain(x, [(k, b), (k, b)]).bound
    assert (np.abs(off_by_one_ulp - shared_dense(x, k, b)) <= bound).all(), (off_by_one_ulp, bound)


def test_derivation_is_stated():
    tol = tolerances.dense_chain(np.ones((1, 3)), [(np.ones((3, 3)), None)])
    assert "gamma_k" in tol.derivation and "2^-24" in tol.derivation and "float32" in tol.derivation
    assert "drift bound" in tol.derivation and "contraction orders" in tol.derivation


def test_unit_roundoff_follows_the_dtype():
    assert tolerances.unit_roundoff(np.float32) == 2.0**-24
    assert tolerances.unit_roundoff(np.float64) == 2.0**-53
    assert tolerances.unit_roundoff(np.float16) == 2.0**-11
