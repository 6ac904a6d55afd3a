"""The run's shape pools reach the sizes real models use, axis by axis, and keep the edge cases.

Reach is a property of the pool functions' own draws, checked per axis: over
three consecutive ``default`` runs (each with a pool of its own), some shape
sits in the top quarter of every axis's range, and some at 1, with probability
at least 99%; the ``ci`` pool, which ``make test`` uses, has both for every
axis. Size-gated mutants (a GATE: a defect switched on above a size) are then
within reach of the ci pool; the kill table checks that it rejects them.
"""

from __future__ import annotations

import pytest
from conformance.properties.doc04_cross_layer import strategies as dst

from conformance.engine.mutants import discover_mutants
from conformance.kit.pools import (
    BUDGET,
    CI_POOL_SEED,
    MAX_ROWS,
    MAX_WIDTH,
    draw_pool,
    random_draws,
    top_quarter,
    use_pool,
)

SEEDS = range(1, 301)

# Axis -> (its range's top, the values a pool draws for it).
KIT_AXES = {
    "rows": (MAX_ROWS, lambda p: [s[0] for s in p.dense + p.square] + list(p.rows)),
    "in_features": (MAX_WIDTH, lambda p: [s[1] for s in p.dense] + [s[0] for s in p.vector]),
    "features": (MAX_WIDTH, lambda p: [s[2] for s in p.dense] + [s[1] for s in p.vector] + list(p.features)),
    "square width": (MAX_WIDTH, lambda p: [s[1] for s in p.square]),
}
DOC04_AXES = {
    "batch": (dst.MAX_BATCH, lambda cases: [c.batch for c in cases]),
    "seq": (dst.MAX_SEQ, lambda cases: [c.seq for c in cases]),
    "heads": (dst.MAX_HEADS, lambda cases: [c.num_heads for c in cases]),
    "d_model": (dst.MAX_D_MODEL, lambda cases: [c.d_model for c in cases]),
    "d_ff": (dst.MAX_D_FF, lambda cases: [c.d_ff for c in cases]),
    "layers": (dst.MAX_LAYERS, lambda cases: [c.num_layers for c in cases]),
}
STRUCTURAL_AXES = {
    "layers": (dst.MAX_LAYERS, 0),
    "d_model": (dst.MAX_D_MODEL, 1),
    "heads": (dst.MAX_HEADS, 2),
    "d_ff": (dst.MAX_D_FF, 3),
}


def _draws(axis_values, draw) -> list[list[int]]:
    return [axis_values(draw(seed)) for seed in SEEDS]


def _three_runs_reach(values_per_run: list[list[int]], hit) -> float:
    """The share of three consecutive runs in which no run draws a value that ``hit`` accepts."""
    reached = [any(hit(v) for v in values) for values in values_per_run]
    windows = [any(reached[i : i + 3]) for i in range(len(reached) - 2)]
    return windows.count(False) / len(windows)


def _axes():
    for name, (top, values) in KIT_AXES.items():
        yield f"kit:{name}", top, values, draw_pool
    for name, (top, values) in DOC04_AXES.items():
        yield f"doc04:{name}", top, values, dst.draw_cases
    for name, (top, i) in STRUCTURAL_AXES.items():
        yield f"doc04-structural:{name}", top, (lambda combos, i=i: [c[i] for c in combos]), dst.draw_structural


AXES = list(_axes())


@pytest.mark.parametrize(("axis", "top", "values", "draw"), AXES, ids=[a[0] for a in AXES])
def test_three_default_runs_reach_the_top_quarter_and_1_of_every_axis(axis, top, values, draw):
    runs = _draws(values, draw)
    assert all(1 <= v <= top for run in runs for v in run), f"{axis}: a value outside 1..{top}"
    for what, hit in (("the top quarter", lambda v: v >= top_quarter(top)), ("the value 1", lambda v: v == 1)):
        missed = _three_runs_reach(runs, hit)
        assert missed <= 0.01, f"{axis}: three consecutive default runs miss {what} {missed:.1%} of the time"


@pytest.mark.parametrize(("axis", "top", "values", "draw"), AXES, ids=[a[0] for a in AXES])
def test_the_ci_pool_reaches_the_top_quarter_and_1_of_every_axis(axis, top, values, draw):
    found = values(draw(CI_POOL_SEED))
    assert max(found) >= top_quarter(top), f"{axis}: the ci pool's largest is {max(found)}, below {top_quarter(top)}"
    assert min(found) == 1, f"{axis}: the ci pool never draws 1 ({sorted(found)})"


def test_reach_is_per_axis_under_the_oracles_budget():
    """A shape at the top of one axis keeps the others small: no shape's oracle costs more than the budget."""
    for seed in SEEDS:
        p = draw_pool(seed)
        assert all(r * i * o <= max(BUDGET, r * (i + o)) for r, i, o in p.dense), f"pool {seed}: {p.dense}"
        assert all(r * w * w <= BUDGET for r, w in p.square), f"pool {seed}: {p.square}"
        for c in dst.draw_cases(seed):
            assert dst.oracle_cost(c) <= dst.CASE_BUDGET, f"pool {seed}: {c} costs {dst.oracle_cost(c):,}"


def test_pools_keep_the_edge_cases_and_both_shapes():
    for seed in SEEDS:
        p = draw_pool(seed)
        assert (1, 1, 1) in p.dense and (1, 1) in p.square and (1, 1) in p.vector, f"pool {seed} lost an edge case"
        assert any(i < o for _, i, o in p.dense) and any(i > o for _, i, o in p.dense), f"pool {seed}: not both ways"
        cases = dst.draw_cases(seed)
        assert any(c.d_ff > c.d_model for c in cases) and any(c.d_ff < c.d_model for c in cases), f"pool {seed}"
        assert all(c.d_ff not in (c.d_model, 3 * c.d_model) and c.d_model % c.num_heads == 0 for c in cases)


def test_big_shapes_are_met_by_explicit_examples_only():
    p = draw_pool(CI_POOL_SEED)
    drawn = random_draws(p.dense, p.big)
    assert drawn and not set(drawn) & p.big, f"random examples draw {drawn}, big shapes are {sorted(p.big)}"
    assert set(drawn) | (set(p.dense) & p.big) == set(p.dense), "a shape of the pool is met by nothing"
    only_big = tuple(s for s in p.dense if s in p.big)
    assert random_draws(only_big, p.big) == only_big, "where every shape is big, random examples still draw them"


def test_each_big_shape_gets_one_explicit_example_with_seeds_from_the_pool():
    from hypothesis import given

    from conformance.kit import strategies as cst

    def examples_of(seed):
        @given(shape=cst.square_shapes(), data_seed=cst.data_seeds())
        def prop(shape, data_seed):
            pass

        use_pool(seed)
        assert cst.add_big_examples(prop, draw_pool(seed)) == len(set(draw_pool(seed).square) & draw_pool(seed).big)
        return [e.kwargs for e in prop.hypothesis_explicit_examples]

    try:
        first, again, other = examples_of(CI_POOL_SEED), examples_of(CI_POOL_SEED), examples_of(7)
    finally:
        use_pool(CI_POOL_SEED)
    assert sorted(e["shape"] for e in first) == sorted(
        set(draw_pool(CI_POOL_SEED).square) & draw_pool(CI_POOL_SEED).big
    )
    assert first == again, "a run's explicit examples are not reproducible from its pool seed"
    assert {e["data_seed"] for e in first} != {0} and first[0]["data_seed"] != other[0]["data_seed"], (
        f"big shapes always meet the same data: {first} and {other}"
    )


# Which pool shapes reach each size-gated mutant's defect (mirrors its GATE).
def _cases(p):
    return dst.draw_cases(p.seed)


GATES = {
    "m01_wide_skips_inner_relu": lambda p: any(w > 64 for _, w in p.square),
    "m02_large_batch_last_row": lambda p: any(r > 32 for r, _, _ in p.dense),
    "m03_wide_input_fresh_kernel": lambda p: any(i > 100 for i, _ in p.vector),
    "m05_wide_output_bias_ones": lambda p: any(o > 100 for _, o in p.vector),
    "m04_deep_shared_one_short": lambda p: any(c.num_layers >= 4 for c in _cases(p)),
    "m04_deep_shared_capped": lambda p: any(c.num_layers > 16 for c in _cases(p)),
    "m04_long_sequence_keys_cut": lambda p: any(c.seq > 256 for c in _cases(p)),
    "m04_many_heads_misscaled": lambda p: any(c.num_heads > 8 for c in _cases(p)),
    "m04_large_batch_mixed": lambda p: any(c.batch > 32 for c in _cases(p)),
    "m04_wide_layernorm_eps": lambda p: any(c.d_model > 512 for c in _cases(p)),
}


def test_every_size_gated_mutant_has_its_gate_here():
    gated = {m.name for m in discover_mutants() if m.gate}
    assert gated == set(GATES), f"size-gated mutants {sorted(gated)} against gates known here {sorted(GATES)}"


@pytest.mark.parametrize("mutant", sorted(GATES))
def test_the_ci_pool_reaches_every_gate(mutant):
    assert GATES[mutant](draw_pool(CI_POOL_SEED)), f"the ci pool never reaches {mutant}'s defect"


def test_a_big_value_no_example_met_is_reported():
    from hypothesis import given

    from conformance.engine.plugin.verdicts import unmet_big_values
    from conformance.kit import strategies as cst

    @given(shape=cst.square_shapes(), data_seed=cst.data_seeds())
    def prop(shape, data_seed):
        pass

    pool = use_pool(CI_POOL_SEED)
    big = sorted(set(pool.square) & pool.big)
    met = {(("shape", s),) for s in pool.square}
    assert unmet_big_values(prop, met) == [], "every square shape met, yet something is reported unmet"
    missing = {(("shape", s),) for s in pool.square if s != big[0]}
    assert unmet_big_values(prop, missing) == [f"shape={big[0]}"], f"{big[0]} was never met and not reported"
