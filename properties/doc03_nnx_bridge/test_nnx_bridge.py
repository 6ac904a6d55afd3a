"""Document 03: one kernel shared between an nnx.Linear and a Linen nn.Dense."""

from __future__ import annotations

import warnings

import jax
import numpy as np
from flax import linen as nn
from flax import nnx
from hypothesis import given
from hypothesis import strategies as st

from conformance.engine.registry import conformance_property
from conformance.kit import compiled, forward, tolerances
from conformance.kit import strategies as cst
from conformance.kit.assertions import assert_close, assert_equal_arrays, assert_tree_shapes
from conformance.kit.nnx_compat import assign, state_leaf_shape
from conformance.kit.oracles import dense

from . import DOCUMENT, Section, constructions, oracles


def _two_modules(impl, seed, x, features, as_float=False):
    return forward.call(impl, "shared_params_two_modules", seed, x, features, shape=(features,), as_float=as_float)


def _both_halves(seed, shape, data_seed):
    """(x, K, linen_out, nnx_out): the document's two forward passes over nnx.Linear's kernel K."""
    in_dim, features = shape
    x = cst.normal_array(data_seed, (in_dim,))
    linear = constructions.nnx_linear(seed, in_dim, features)
    kernel = np.asarray(linear.kernel[...])
    linen = np.asarray(compiled.apply(nn.Dense, {"params": {"kernel": kernel}}, x, features=features, use_bias=False))
    return x, kernel, linen, np.asarray(compiled.nnx_call(linear, x))


def _key_data(key) -> np.ndarray:
    """The uint32 words of a key, typed (jax.random.key) or raw (PRNGKey)."""
    typed = jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
    return np.asarray(jax.random.key_data(key) if typed else key)


# --- the function --------------------------------------------------------------


@conformance_property(
    "03-output-is-twice-nnx",
    document=DOCUMENT,
    section=Section.PROBLEM,
    title="shared_params_two_modules returns 2 * (x @ K), K the kernel nnx.Linear draws from nnx.Rngs(seed)",
    hint="Build nnx.Linear(in, F, use_bias=False, rngs=nnx.Rngs(int(seed))), reuse its kernel array in the Linen "
    "params dict, and add both outputs.",
    needs=("shared_params_two_modules",),
)
@given(seed=cst.seeds(), shape=cst.vector_shapes(), data_seed=cst.data_seeds(), as_float=st.booleans())
def test_output_is_twice_nnx(impl, seed, shape, data_seed, as_float):
    in_dim, features = shape
    x = cst.normal_array(data_seed, (in_dim,))
    out = _two_modules(impl, seed, x, features, as_float)
    kernel = constructions.nnx_linear_kernel(seed, in_dim, features)
    assert_close(
        out, 2.0 * dense(x, kernel), oracles.twice_dense_tolerance(x, kernel), what="shared_params_two_modules"
    )


@conformance_property(
    "03-output-linear-in-x",
    document=DOCUMENT,
    section=Section.SETUP,
    title="With no bias on either side the result is linear in x: f(a x + c y) = a f(x) + c f(y)",
    hint="Both modules must be built with use_bias=False, and nothing nonlinear may follow them.",
    needs=("shared_params_two_modules",),
)
@given(
    seed=cst.seeds(),
    shape=cst.vector_shapes(),
    data_seed=cst.data_seeds(),
    a=st.sampled_from((2.0, -1.5, 0.25)),
    c=st.sampled_from((1.0, -3.0, 0.5)),
)
def test_output_linear_in_x(impl, seed, shape, data_seed, a, c):
    in_dim, features = shape
    x = cst.normal_array(data_seed, (in_dim,))
    y = cst.normal_array(data_seed + 1, (in_dim,))
    mixed = (a * x.astype(np.float64) + c * y).astype(np.float32)
    lhs = _two_modules(impl, seed, mixed, features)
    rhs = a * _two_modules(impl, seed, x, features).astype(np.float64) + c * _two_modules(impl, seed, y, features)
    kernel = constructions.nnx_linear_kernel(seed, in_dim, features)
    tol = tolerances.combined(
        (1.0, oracles.twice_dense_tolerance(mixed, kernel)),
        (a, oracles.twice_dense_tolerance(x, kernel)),
        (c, oracles.twice_dense_tolerance(y, kernel)),
    )
    # mixed was rounded to float32: its rounding error enters through 2|K|.
    rounding = tolerances.Tolerance(
        bound=2 * tolerances.unit_roundoff() * np.abs(mixed.astype(np.float64)) @ np.abs(kernel) * tolerances.MARGIN,
        derivation="input rounding of a*x + c*y",
    )
    assert_close(
        lhs,
        rhs,
        tolerances.combined((1.0, tol), (1.0, rounding)),
        what=f"f({a:g}*x + {c:g}*y) against {a:g}*f(x) + {c:g}*f(y)",
    )


# --- what Flax does --------------------------------------------------------------


@conformance_property(
    "03-fw-kernels-are-in-by-out",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="nnx.Linear and nn.Dense both store the kernel as (in, out)",
    hint="A layout change in either framework breaks every kernel shared between them.",
)
@given(shape=cst.vector_shapes(structural=True))
def test_fw_kernels_are_in_by_out(shape):
    in_dim, features = shape
    # Shapes only: the seed cannot change them (see compiled.abstract_init).
    linear = nnx.eval_shape(lambda: nnx.Linear(in_dim, features, use_bias=False, rngs=nnx.Rngs(0)))
    dense = compiled.abstract_init(nn.Dense(features, use_bias=False), (1, in_dim))
    kernel_shape = state_leaf_shape(linear)
    assert kernel_shape == (in_dim, features), f"nnx.Linear kernel {kernel_shape}, expected {(in_dim, features)}"
    assert_tree_shapes(dense, {"params": {"kernel": (in_dim, features)}}, what="nn.Dense(use_bias=False)")


@conformance_property(
    "03-fw-linen-reproduces-nnx",
    document=DOCUMENT,
    section=Section.SETUP,
    title="nn.Dense applied with {'params': {'kernel': K}}, K the nnx kernel array, gives nnx.Linear's output",
    hint="Both frameworks compute x @ kernel; check dtype promotion and precision defaults of either side.",
)
@given(seed=cst.seeds(), shape=cst.vector_shapes(), data_seed=cst.data_seeds())
def test_fw_linen_reproduces_nnx(seed, shape, data_seed):
    x, kernel, linen, nnx_out = _both_halves(seed, shape, data_seed)
    one = tolerances.dense_chain(x[None, :], [(kernel, None)]).rows(0)
    assert_close(linen, nnx_out, tolerances.combined((1.0, one), (1.0, one)), what="Linen output against nnx output")


@conformance_property(
    "03-fw-linen-equals-nnx-exactly",
    document=DOCUMENT,
    section=Section.PROBLEM,
    title="On CPU the Linen and nnx outputs over the shared kernel are bitwise equal, so their sum is exactly "
    "2 * nnx_out (elsewhere: equal within float32 rounding)",
    hint="Both frameworks compute the same x @ kernel; a bitwise difference on CPU means one of them sums the "
    "products in another order or another precision.",
)
@given(seed=cst.seeds(), shape=cst.vector_shapes(), data_seed=cst.data_seeds())
def test_fw_linen_equals_nnx_exactly(seed, shape, data_seed):
    in_dim, features = shape
    x = cst.normal_array(data_seed, (in_dim,))
    linear = constructions.nnx_linear(seed, in_dim, features)
    kernel = np.asarray(linear.kernel[...])
    # Eager, as the document runs them: two separately compiled programs may round differently
    # (XLA's optimisation level moves the last bit), which says nothing about the frameworks.
    x_dev = jax.device_put(x)
    nnx_out = np.asarray(linear(x_dev))
    linen = np.asarray(nn.Dense(features, use_bias=False).apply({"params": {"kernel": linear.kernel[...]}}, x_dev))
    total = nnx_out + linen  # the document's sum, in float32
    if jax.default_backend() == "cpu":
        assert_equal_arrays(linen, nnx_out, what="linen_out against nnx_out on CPU")
        assert_equal_arrays(total, 2 * np.asarray(nnx_out), what="nnx_out + linen_out against 2 * nnx_out on CPU")
        return
    # Accelerators may pick different kernels for the two programs: equality within rounding only.
    one = tolerances.dense_chain(x[None, :], [(kernel, None)]).rows(0)
    assert_close(
        linen,
        nnx_out,
        tolerances.combined((1.0, one), (1.0, one)),
        what=f"linen_out against nnx_out on {jax.default_backend()}",
    )


@conformance_property(
    "03-fw-value-accessor-silent",
    document=DOCUMENT,
    section=Section.NON_OBVIOUS,
    title="Reading a Param's array with .value, as the document does, works and warns of nothing",
    hint="Newer Flax deprecates .value on array Variables in favour of param[...]; see the warning text.",
)
@given(seed=cst.seeds(), shape=cst.vector_shapes())
def test_fw_value_accessor_silent(seed, shape):
    in_dim, features = shape
    linear = constructions.nnx_linear(seed, in_dim, features)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = linear.kernel.value
    assert isinstance(value, jax.Array), f".value gave {type(value).__name__}, expected a jax.Array"
    messages = [f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught]
    assert not messages, f".value emitted {messages}"


@conformance_property(
    "03-fw-param-wrapper-is-not-the-array",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="Passing the nnx.Param wrapper instead of its array into a Linen params dict is a pitfall: it fails",
    hint="The document says forgetting .value breaks; releases that accept the wrapper make this pitfall silent.",
)
@given(seed=cst.seeds(), shape=cst.vector_shapes(), data_seed=cst.data_seeds())
def test_fw_param_wrapper_is_not_the_array(seed, shape, data_seed):
    in_dim, features = shape
    x = cst.normal_array(data_seed, (in_dim,))
    linear = constructions.nnx_linear(seed, in_dim, features)
    assert not isinstance(linear.kernel, jax.Array), "nnx.Param is itself a jax.Array"
    try:
        # Eager on purpose: under jit the wrapper would be flattened to its array before Linen saw it.
        out = nn.Dense(features, use_bias=False).apply({"params": {"kernel": linear.kernel}}, x)
    except Exception:
        return
    raise AssertionError(
        f"Linen accepted the nnx.Param wrapper as a kernel and returned {np.asarray(out)[:4]} "
        "(the document calls this a failure)"
    )


@conformance_property(
    "03-fw-reassignment-not-mirrored",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="Sharing is by reference: assigning a new kernel to the nnx side leaves the Linen params dict as it was",
    hint="JAX arrays are immutable; if this fails, a Variable now aliases mutable storage.",
)
@given(seed=cst.seeds(), shape=cst.vector_shapes())
def test_fw_reassignment_not_mirrored(seed, shape):
    in_dim, features = shape
    linear = constructions.nnx_linear(seed, in_dim, features)
    shared = linear.kernel[...]
    linen_params = {"params": {"kernel": shared}}
    before = np.asarray(shared).copy()
    assign(linear.kernel, jax.device_put(before + np.float32(1.0)))  # a new array, made without compiling
    assert_equal_arrays(linen_params["params"]["kernel"], before, what="Linen kernel after reassigning the nnx kernel")
    assert_equal_arrays(np.asarray(linear.kernel[...]), before + np.float32(1.0), what="nnx kernel after reassignment")


@conformance_property(
    "03-fw-rngs-int-seed-is-prngkey",
    document=DOCUMENT,
    section=Section.PROBLEM,
    title="nnx.Rngs(seed) with an int seed draws exactly what nnx.Rngs(PRNGKey(seed)) draws",
    hint="Implementations that jit their construction (the bundled reference among them) pass PRNGKey(seed) "
    "into nnx.Rngs inside jit; if Rngs changed how it seeds an int, they must build nnx.Rngs(seed) instead.",
)
@given(seed=cst.seeds(), draws=st.integers(1, 3))
def test_fw_rngs_int_seed_is_prngkey(seed, draws):
    from_int, from_key = nnx.Rngs(seed), nnx.Rngs(jax.random.PRNGKey(seed))
    for i in range(draws):  # the keys themselves, draw by draw: equal keys give equal draws of any shape
        assert_equal_arrays(
            _key_data(from_int.params()),
            _key_data(from_key.params()),
            what=f"params key {i + 1} of nnx.Rngs(seed) against nnx.Rngs(PRNGKey(seed))",
        )
