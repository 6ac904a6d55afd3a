"""Document 04's numerics: FLOP counting through scans, parameter formulas, the oracle and its drift bounds."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conformance.properties.doc04_cross_layer import layout
from conformance.properties.doc04_cross_layer.constructions import (
    DocBlock,
    DocScanShared,
    DocShared,
    DocUnshared,
    doc_block_params,
)
from conformance.properties.doc04_cross_layer.numerics import drift, nonlinearities, oracles, param_counts
from conformance.properties.doc04_cross_layer.strategies import CASES, Case
from conftest import run_cli
from doc04_support import DEEP, impl_of, shapes_of

from conformance.kit import flops
from conformance.kit.strategies import random_params


def _tanh_chain(w, x, length=4):
    def body(c, _):
        return jnp.tanh(c @ w), None

    return jax.lax.scan(body, x, None, length=length)[0].sum()


def _python_chain(w, x, length=4):
    for _ in range(length):
        x = jnp.tanh(x @ w)
    return x.sum()


W, X = jnp.ones((8, 8)) / 8, jnp.ones((2, 8))


# --- flops ---------------------------------------------------------------------------


def test_lowered_cost_counts_a_scan_body_once():
    as_loop = flops.lowered_flops(_tanh_chain, W, X)
    one_step = flops.lowered_flops(lambda w, x: _python_chain(w, x, 1), W, X)
    assert as_loop.while_loops == 1 and not as_loop.exact
    assert as_loop.flops < 2 * one_step.flops, "XLA now multiplies loop bodies by the trip count"


@pytest.mark.parametrize("grad", [False, True])
def test_count_flops_unrolls_scans_to_the_python_loop_count(grad):
    scan_fn, loop_fn = (jax.grad(_tanh_chain), jax.grad(_python_chain)) if grad else (_tanh_chain, _python_chain)
    got, want = flops.count_flops(scan_fn, W, X), flops.count_flops(loop_fn, W, X)
    assert got.exact and got.scans_unrolled == (2 if grad else 1)
    assert got.flops == want.flops


def test_count_flops_accepts_abstract_arguments():
    spec = (jax.ShapeDtypeStruct(W.shape, W.dtype), jax.ShapeDtypeStruct(X.shape, X.dtype))
    assert flops.count_flops(_tanh_chain, *spec).flops == flops.count_flops(_tanh_chain, W, X).flops


def test_unrolled_replay_computes_the_same_values():
    xs = jnp.arange(12.0).reshape(3, 4)

    def nested(c, xs):
        def outer(c, x):
            inner = jax.lax.scan(lambda a, y: (a * 0.5 + y, a), c, jnp.stack([x, -x]))
            return inner[0], inner[1].sum(0)

        return jax.lax.scan(outer, c, xs, reverse=True)

    c0 = jnp.ones(4)
    want = nested(c0, xs)
    replay = flops.unrolled(nested)
    got = replay(c0, xs)
    assert replay.scans == 1 + 3  # the inner scan is replayed once per outer step
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    assert "while" not in jax.jit(replay).lower(c0, xs).as_text()


def test_zero_length_scan_replays():
    f = lambda c: jax.lax.scan(lambda c, _: (c + 1, c), c, None, length=0)  # noqa: E731
    carry, ys = flops.unrolled(f)(jnp.ones(3))
    assert ys.shape == (0, 3) and np.array_equal(carry, np.ones(3))


def test_cost_dict_accepts_the_old_list_form():
    class Old:
        def cost_analysis(self):
            return [{"flops": 5.0}]

    assert flops.cost_dict(Old())["flops"] == 5.0
    with pytest.raises(ValueError):
        flops.cost_dict(type("Bad", (), {"cost_analysis": lambda self: [{}, {}]})())


def test_shared_scan_and_loop_have_equal_unrolled_flops():
    c = DEEP
    x = jax.ShapeDtypeStruct(c.x_shape, jnp.float32)
    counts = []
    for model in (DocScanShared(c.num_layers, *c.dims), DocShared(c.num_layers, *c.dims)):
        p = jax.eval_shape(model.init, jax.random.PRNGKey(0), x)
        counts.append(flops.count_flops(model.apply, p, x).flops)
    assert counts[0] == counts[1]


# --- parameter formulas ---------------------------------------------------------------


def test_formulas_at_the_documents_size():
    L, d, d_ff = 12, 512, 2048
    assert param_counts.attention_params(d) == 1_050_624
    assert param_counts.ffn_params(d, d_ff) == 2_099_712
    assert param_counts.block_params(d, d_ff) == 3_152_384
    assert param_counts.model_params(None, L, d, d_ff) == 37_828_608
    assert param_counts.model_params("all", L, d, d_ff) == 3_152_384
    assert param_counts.model_params("ffn", L, d, d_ff) == 14_731_776
    assert param_counts.model_params("attention", L, d, d_ff) == 26_271_744
    # The document prints 50,468,352 and 4,205,824: not these, and not a ratio of 12.
    assert 50_468_352 != 12 * 4_205_824


@pytest.mark.parametrize("case", range(len(CASES)))
def test_formulas_match_flax(case):
    c = CASES[case]
    x = jax.ShapeDtypeStruct(c.x_shape, jnp.float32)

    def count(model):
        return sum(
            int(np.prod(v.shape))
            for v in jax.tree_util.tree_leaves(jax.eval_shape(model.init, jax.random.PRNGKey(0), x))
        )

    assert count(DocBlock(*c.dims)) == param_counts.block_params(c.d_model, c.d_ff)
    assert count(DocUnshared(c.num_layers, *c.dims)) == param_counts.model_params(None, c.num_layers, c.d_model, c.d_ff)
    assert count(DocShared(c.num_layers, *c.dims)) == param_counts.model_params("all", c.num_layers, c.d_model, c.d_ff)


# --- the oracle ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", range(len(CASES)))
def test_oracle_matches_flax_within_its_bound(case):
    c = CASES[case]
    model = DocBlock(*c.dims)
    params = random_params(shapes_of(model, c), case)
    x = np.random.default_rng(case).standard_normal(c.x_shape).astype(np.float32)
    y = np.asarray(jax.jit(model.apply)({"params": params}, x))
    layouts = layout.block_roles(impl_of("doc", TransformerBlock=DocBlock), c.dims).readings(params)
    assert len(layouts) == 1
    match = oracles.closest_layout(x, y, layouts)
    expected, tol = match.expected, match.tolerance
    assert (np.abs(y - expected) <= tol.bound).all()
    assert tol.bound.max() < 1e-2, "the bound is too loose to mean anything"
    # Pre-LN is far outside it.
    p = layouts[0]
    wrong = oracles.block(oracles.layer_norm(x, 1e-5)[0], p) + x
    assert (np.abs(wrong - expected) > tol.bound).any()


def test_oracle_variants_differ_by_the_documented_amounts():
    x = np.linspace(-6, 6, 10001)
    gap = np.abs(nonlinearities.gelu_tanh(x) - nonlinearities.gelu_exact(x)).max()
    assert 4.5e-4 < gap < 5e-4
    rows = np.random.default_rng(0).standard_normal((3, 8)) * 10**-2.5
    a, _ = oracles.layer_norm(rows, 1e-6)
    b, _ = oracles.layer_norm(rows, 1e-5)
    assert np.abs(a).max() / np.abs(b).max() > 1.2


def test_gradient_drift_is_float32_tight_at_12_layers_and_still_sees_a_missing_layer():
    c = Case(num_layers=12, d_model=16, num_heads=2, d_ff=40, batch=2, seq=5)
    params = random_params(shapes_of(DocBlock(*c.dims), c), 0)
    (values,) = layout.block_roles(impl_of("doc", TransformerBlock=DocBlock), c.dims).readings(params)
    written = doc_block_params(values)
    assert jax.tree_util.tree_structure(written) == jax.tree_util.tree_structure(params)
    assert all(
        np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(written), jax.tree_util.tree_leaves(params))
    )
    rng = np.random.default_rng(0)
    x, r = (rng.standard_normal(c.x_shape).astype(np.float32) for _ in range(2))
    shared, total = drift.construction_gradients(c.num_layers, c.dims, values, x, r)
    magnitude = max(float(np.abs(g).max()) for g in total.arrays())
    bound = drift.gradient_drift(c.num_layers, c.dims, values, x, r).bound(magnitude)
    assert bound <= 1e-3 * magnitude, "the drift bound is not float32-tight"
    assert max(float(np.abs(a - b).max()) for a, b in zip(shared.arrays(), total.arrays())) <= bound
    _, short = drift.construction_gradients(c.num_layers - 1, c.dims, values, x, r)  # one layer's term missing
    assert max(float(np.abs(a - b).max()) for a, b in zip(shared.arrays(), short.arrays())) > 100 * bound


@pytest.mark.parametrize(
    "case",
    [
        Case(num_layers=3, d_model=4, num_heads=2, d_ff=14, batch=2, seq=3),
        Case(num_layers=2, d_model=8, num_heads=2, d_ff=5, batch=1, seq=7),
        Case(num_layers=1, d_model=6, num_heads=3, d_ff=10, batch=3, seq=2),
        Case(num_layers=2, d_model=1, num_heads=1, d_ff=2, batch=1, seq=1),
    ],
)
def test_numpy_backward_is_jax_autodiff_of_the_construction_in_float64(case):
    from conformance.properties.doc04_cross_layer.constructions import doc_block_values
    from conformance.properties.doc04_cross_layer.numerics import backward

    c = case
    model = DocBlock(*c.dims)
    layers = [random_params(shapes_of(model, c), seed) for seed in range(c.num_layers)]
    rng = np.random.default_rng(1)
    x, r = (rng.standard_normal(c.x_shape) for _ in range(2))
    with jax.enable_x64(True):
        as64 = lambda tree: jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), tree)  # noqa: E731

        def stack(ps):
            y = np.asarray(x)
            for p in ps:
                y = model.apply({"params": p}, y)
            return y

        _, pull = jax.vjp(stack, as64(layers))
        autodiff = [doc_block_values(g) for g in pull(np.asarray(r))[0]]
    by_hand = backward.stack_gradients([doc_block_values(p) for p in layers], x, r)
    scale = max(float(np.abs(a).max()) for g in autodiff for a in g.arrays())
    gap = max(float(np.abs(a - b).max()) for g, h in zip(autodiff, by_hand) for a, b in zip(g.arrays(), h.arrays()))
    assert gap <= 1e-12 * scale, f"{c}: the NumPy backward pass is {gap:.3g} from jax.vjp (gradients up to {scale:.3g})"


def test_the_audit_judges_a_normwise_tolerance_against_the_stated_scale():
    from conformance.kit import assertions
    from conformance.kit.tolerances import Tolerance

    audit = assertions.reset_audit()
    tol = Tolerance(bound=np.full(3, 1e-6), derivation="normwise")
    assertions.assert_close(np.zeros(3), np.full(3, 1e-7), tol, what="a leaf that is rounding noise", scale=10.0)
    assert audit.worst_ratio == pytest.approx(1e-7)
    assertions.assert_close(np.zeros(3), np.full(3, 1e-7), tol, what="the same, judged against itself")
    assert audit.worst_ratio == pytest.approx(10.0)


def test_a_gradient_through_an_ill_conditioned_layernorm_passes_the_reference():
    """A default run (pool seed 202) failed the reference here: at L=2, d_model 3 (an edge case, in every pool) a
    LayerNorm row of tiny variance made the float32 gradient 3.8e-4 off, over a first-order bound of 1.7e-4 that
    the construction's own float32 run also exceeded. Measured drift past the estimate now lifts the cap."""
    proc = run_cli(
        "run", "--only", "04-unshared-layer-grads-match-oracle", "--pool-seed", "202", "--workers", "0",
        "--example", '{"case": 1, "data_seed": 236750, "seed": 236750}',
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:]


PIECE_PROBES = ("04-block-gelu-is-exact", "04-block-layernorm-eps-is-pytorch", "04-block-output-rows-normalised")


@pytest.mark.parametrize(
    "mutant, own_probe",
    [("m04_layernorm_eps_1e6", "04-block-layernorm-eps-is-pytorch"), ("m04_tanh_gelu", "04-block-gelu-is-exact")],
)
def test_a_block_with_one_defect_fails_only_its_own_piece_probe(mutant, own_probe, tmp_path):
    from conftest import read

    report = tmp_path / "r.json"
    run_cli(
        "run",
        "--impl",
        f"conformance.implementations.mutants.{mutant}",
        "--profile",
        "ci",
        "--only",
        *PIECE_PROBES,
        "--json",
        str(report),
    )
    failed = sorted(r["id"] for r in read(report)["results"] if r["status"] != "passed")
    assert failed == [own_probe], f"{mutant} has one defect but the piece probes {failed} reject it"
