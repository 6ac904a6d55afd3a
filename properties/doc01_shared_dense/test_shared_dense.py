"""Document 01: one Linen module called at two sites shares one set of params."""

from __future__ import annotations

import jax
import numpy as np
from flax import errors as flax_errors
from flax import linen as nn
from hypothesis import assume, given
from hypothesis import strategies as st

from conformance.engine.registry import conformance_property
from conformance.kit import compiled, forward, tolerances
from conformance.kit import strategies as cst
from conformance.kit.assertions import (
    as_output,
    assert_close,
    assert_equal_arrays,
    assert_raises,
    assert_tree_shapes,
    dig,
)

from . import DOCUMENT, Section, constructions, oracles


def _forward(impl, seed, x, hidden, as_float=False):
    """Call shared_dense_forward, passing seed/hidden as floats when asked (the contract allows it)."""
    return forward.call(impl, "shared_dense_forward", seed, x, hidden, shape=(x.shape[0] * hidden,), as_float=as_float)


def _module(impl, hidden):
    with impl.running("SharedDense(hidden)"):
        return impl.get("SharedDense")(hidden=hidden)


def _init_apply(impl, seed, x, hidden):
    with impl.running("SharedDense.init/apply"):
        return compiled.init_apply(impl.get("SharedDense"), jax.random.PRNGKey(seed), x, hidden=hidden)


# --- the module --------------------------------------------------------------


@conformance_property(
    "01-params-one-shared-entry",
    document=DOCUMENT,
    section=Section.VERIFYING,
    title="SharedDense params are one 'shared' entry: kernel (hidden, hidden) and bias (hidden,), 2 leaves",
    hint="Declare one nn.Dense in setup() and call it twice; a second Dense, or a bias per call site, adds entries.",
    needs=("SharedDense",),
)
@given(shape=cst.square_shapes(structural=True))
def test_params_one_shared_entry(impl, shape):
    n, hidden = shape
    model = _module(impl, hidden)
    with impl.running("SharedDense.init"):
        shapes = compiled.abstract_init(model, (n, hidden))
    assert_tree_shapes(
        shapes,
        {"params": {"shared": {"kernel": (hidden, hidden), "bias": (hidden,)}}},
        what=f"SharedDense(hidden={hidden}).init",
    )
    leaves = len(jax.tree_util.tree_leaves(shapes))
    assert leaves == 2, f"SharedDense has {leaves} param leaves, expected 2 (kernel and bias)"


@conformance_property(
    "01-module-matches-oracle",
    document=DOCUMENT,
    section=Section.PATTERN,
    title="SharedDense computes relu(relu(x K + b) K + b) with its one (K, b)",
    hint="Both calls must go through the same Dense, with relu after each call.",
    needs=("SharedDense",),
)
@given(seed=cst.seeds(), shape=cst.square_shapes(), data_seed=cst.data_seeds(), scale=cst.scales())
def test_module_matches_oracle(impl, seed, shape, data_seed, scale):
    n, hidden = shape
    x = cst.normal_array(data_seed, (n, hidden), scale)
    variables, out = _init_apply(impl, seed, x, hidden)
    out = as_output(out, what="SharedDense.apply", shape=(n, hidden))
    k = np.asarray(dig(variables, "params", "shared", "kernel", what="SharedDense params"))
    b = np.asarray(dig(variables, "params", "shared", "bias", what="SharedDense params"))
    tol = tolerances.dense_chain(x, [(k, b), (k, b)])
    assert_close(out, oracles.shared_dense(x, k, b), tol, what="SharedDense.apply")


@conformance_property(
    "01-grad-sums-call-sites",
    document=DOCUMENT,
    section=Section.WHY,
    title="The gradient of the shared kernel and bias is the sum of both call sites' gradients",
    hint="Nothing may cut the gradient at one call site (stop_gradient, a copied or frozen kernel).",
    needs=("SharedDense",),
)
@given(seed=cst.seeds(), shape=cst.square_shapes(), data_seed=cst.data_seeds())
def test_grad_sums_call_sites(impl, seed, shape, data_seed):
    n, hidden = shape
    variables, _ = _init_apply(impl, seed, cst.normal_array(data_seed, (n, hidden)), hidden)
    k = np.asarray(dig(variables, "params", "shared", "kernel", what="SharedDense params"))
    b = np.asarray(dig(variables, "params", "shared", "bias", what="SharedDense params"))
    # A pre-activation within rounding of 0 makes relu's derivative a coin toss: an input clear of it.
    found = oracles.clear_of_kink(lambda s: (cst.normal_array(s, (n, hidden)), k, b), data_seed)
    assume(found is not None)
    x = found[0]
    with impl.running("gradient of sum(SharedDense.apply)"):
        grads = compiled.grad_of_sum(impl.get("SharedDense"), variables, x, hidden=hidden)
    expected = oracles.shared_dense_grads(x, k, b)
    tol = tolerances.shared_dense_grads(x, k, b)
    for name in ("kernel", "bias"):
        got = as_output(dig(grads, "params", "shared", name, what="gradients"), what=f"d sum(out)/d {name}")
        assert_close(
            got,
            expected[name],
            tol[name],
            what=f"gradient of the shared {name} (expected site 1 + site 2; "
            f"site 1 alone would be {np.round(expected[name + '_site1'].reshape(-1)[:3], 5)})",
        )


# --- the forward function ------------------------------------------------------


@conformance_property(
    "01-forward-matches-construction",
    document=DOCUMENT,
    section=Section.PROBLEM,
    title="shared_dense_forward(seed, x, hidden) equals the prescribed module built with PRNGKey(seed), flattened row-major",
    hint="Init with jax.random.PRNGKey(int(seed)) on x itself, the submodule named 'shared', output reshaped with reshape(-1).",
    needs=("shared_dense_forward",),
)
@given(seed=cst.seeds(), shape=cst.square_shapes(), data_seed=cst.data_seeds(), as_float=st.booleans())
def test_forward_matches_construction(impl, seed, shape, data_seed, as_float):
    n, hidden = shape
    x = cst.normal_array(data_seed, (n, hidden))
    out = _forward(impl, seed, x, hidden, as_float)
    p = constructions.shared_dense_params(seed, hidden)
    tol = tolerances.dense_chain(x, [(p["kernel"], p["bias"])] * 2)
    assert_close(out, oracles.shared_dense(x, p["kernel"], p["bias"]).reshape(-1), tol, what="shared_dense_forward")


@conformance_property(
    "01-forward-flat-nonnegative",
    document=DOCUMENT,
    section=Section.PROBLEM,
    title="shared_dense_forward returns a finite 1-D float array of length N*hidden with no negative entry",
    hint="Return h2.reshape(-1); relu after the second call makes every entry >= 0.",
    needs=("shared_dense_forward",),
)
@given(seed=cst.seeds(), shape=cst.square_shapes(), data_seed=cst.data_seeds(), scale=cst.scales())
def test_forward_flat_nonnegative(impl, seed, shape, data_seed, scale):
    n, hidden = shape
    out = _forward(impl, seed, cst.normal_array(data_seed, (n, hidden), scale), hidden)
    worst = float(out.min())
    assert worst >= 0.0, (
        f"shared_dense_forward has negative entries (min {worst:.6g}); relu must follow the second call"
    )


@conformance_property(
    "01-forward-rows-independent",
    document=DOCUMENT,
    section=Section.PROBLEM,
    title="Permuting or dropping rows of x permutes or drops the matching blocks of the flat output",
    hint="Rows must not interact and the output must be flattened row-major (reshape(-1), not .T or order='F').",
    needs=("shared_dense_forward",),
)
@given(seed=cst.seeds(), shape=cst.square_shapes(min_rows=2), data_seed=cst.data_seeds())
def test_forward_rows_independent(impl, seed, shape, data_seed):
    n, hidden = shape
    x = cst.normal_array(data_seed, (n, hidden))
    full = _forward(impl, seed, x, hidden).reshape(n, hidden)
    perm = cst.permutation(data_seed, n)
    permuted = _forward(impl, seed, x[perm], hidden).reshape(n, hidden)
    p = constructions.shared_dense_params(seed, hidden)
    tol = tolerances.dense_chain(x[perm], [(p["kernel"], p["bias"])] * 2)
    both = tolerances.combined((1.0, tol), (1.0, tol))
    assert_close(permuted, full[perm], both, what=f"output rows after permuting x by {perm.tolist()}")
    first = _forward(impl, seed, x[:1], hidden)
    row = tolerances.dense_chain(x[:1], [(p["kernel"], p["bias"])] * 2)
    assert_close(
        first,
        full[0],
        tolerances.combined((1.0, row), (1.0, row)),
        what="output for x[:1] against the first row block of the full output",
    )


@conformance_property(
    "01-forward-positive-homogeneous",
    document=DOCUMENT,
    section=Section.PROBLEM,
    title="At init the bias is zero, so forward(a*x) = a*forward(x) for every a > 0",
    hint="Dense's default bias initialiser is zeros; relu is positively homogeneous. A nonzero bias or another activation breaks this.",
    needs=("shared_dense_forward",),
)
# Powers of two: scaling by one commutes with every float32 (and TF32, bfloat16) rounding, so a conforming
# forward gives a*forward(x) bit for bit and no tolerance is needed. Other factors would compare two rounded
# results within two drift bounds, about 1e-3 of the output at widths near 4096.
@given(seed=cst.seeds(), shape=cst.square_shapes(), data_seed=cst.data_seeds(), a=st.sampled_from((0.5, 4.0, 16.0)))
def test_forward_positive_homogeneous(impl, seed, shape, data_seed, a):
    n, hidden = shape
    x = cst.normal_array(data_seed, (n, hidden))
    base = _forward(impl, seed, x, hidden)
    scaled = _forward(impl, seed, a * x, hidden)
    assert_equal_arrays(scaled, a * base, what=f"forward({a:g}*x) against {a:g}*forward(x), a power of two")


@conformance_property(
    "01-forward-seed-determines-output",
    document=DOCUMENT,
    section=Section.PROBLEM,
    title="The same seed gives the same output; different seeds give different outputs",
    hint="Derive the init key from the seed argument alone (no global state, no fixed key).",
    needs=("shared_dense_forward",),
)
@given(seed=cst.seeds(), offset=st.integers(1, 2**16), shape=cst.square_shapes(), data_seed=cst.data_seeds())
def test_forward_seed_determines_output(impl, seed, offset, shape, data_seed):
    n, hidden = shape
    other = (seed + offset) % (cst.SEED_MAX + 1)  # always a different seed: nothing to filter
    x = cst.normal_array(data_seed, (n, hidden))
    first = _forward(impl, seed, x, hidden)
    assert_equal_arrays(_forward(impl, seed, x, hidden), first, what=f"two calls with seed={seed}")
    second = _forward(impl, other, x, hidden)
    assume(np.any(first != 0) or np.any(second != 0))  # all-zero relu output hides the params
    assert not np.array_equal(first, second), f"seeds {seed} and {other} give identical outputs {first[:4]}"


# --- what Flax does --------------------------------------------------------------


class _AutoNamedShared(nn.Module):
    hidden: int

    def setup(self):
        self.shared = nn.Dense(self.hidden)  # no name=

    def __call__(self, x):
        return jax.nn.relu(self.shared(jax.nn.relu(self.shared(x))))


@conformance_property(
    "01-fw-inline-dense-not-shared",
    document=DOCUMENT,
    section=Section.PATTERN,
    title="Two nn.Dense created inline in @nn.compact are two modules, Dense_0 and Dense_1, with 4 leaves",
    hint="Flax's auto-naming of compact submodules changed; check the release notes for module naming.",
)
@given(shape=cst.square_shapes(structural=True))
def test_fw_inline_dense_not_shared(shape):
    n, hidden = shape
    shapes = compiled.abstract_init(constructions.DocInlineDense(hidden), (n, hidden))
    layer = {"kernel": (hidden, hidden), "bias": (hidden,)}
    assert_tree_shapes(
        shapes, {"params": {"Dense_0": layer, "Dense_1": layer}}, what="compact module with two nn.Dense"
    )
    assert len(jax.tree_util.tree_leaves(shapes)) == 4


@conformance_property(
    "01-fw-setup-name-from-attribute",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="Without name=, a submodule assigned in setup() is keyed by its attribute name and gets the same params",
    hint="Flax names setup() submodules after the attribute; if this fails, name= became necessary.",
)
@given(seed=cst.seeds(), shape=cst.square_shapes())
def test_fw_setup_name_from_attribute(seed, shape):
    n, hidden = shape
    variables, _ = compiled.init_apply(
        _AutoNamedShared, jax.random.PRNGKey(seed), np.zeros((n, hidden), np.float32), hidden=hidden
    )
    auto = variables["params"]
    assert list(auto) == ["shared"], f"setup() submodule keyed {list(auto)}, expected ['shared']"
    named = constructions.shared_dense_params(seed, hidden)
    for leaf in ("kernel", "bias"):
        assert_equal_arrays(auto["shared"][leaf], named[leaf], what=f"auto-named {leaf} against name='shared'")


@conformance_property(
    "01-fw-mismatched-width-fails-at-init",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="If the input width differs from hidden, init fails with Flax's ScopeParamShapeError at the second call",
    hint="Flax reports a shape clash between an existing param and a new request with ScopeParamShapeError.",
)
@given(hidden=cst.features(structural=True), in_dim=cst.features(structural=True), n=cst.rows(structural=True))
def test_fw_mismatched_width_fails_at_init(hidden, in_dim, n):
    assume(in_dim != hidden)
    # The shape check happens while init is traced: nothing needs compiling.
    assert_raises(
        flax_errors.ScopeParamShapeError,
        lambda: compiled.abstract_init(constructions.DocSharedDense(hidden), (n, in_dim)),
        what=f"init with input width {in_dim} != hidden {hidden}",
    )
