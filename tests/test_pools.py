"""The run's shape pool: wide ranges, kept edge cases, and size-gated defects within reach.

Size-gated mutants (implementations/mutants with a GATE) hide their defect below a
size. The ci pool reaches every gate (so `make test` kills them every run), and a
run of the default profile, which draws a new pool, reaches each gate so often
that three consecutive runs miss it less than 1% of the time.
"""

from __future__ import annotations

import pytest
from conformance.properties.doc04_cross_layer.strategies import draw_cases

from conformance.engine.mutants import discover_mutants
from conformance.kit.pools import CI_POOL_SEED, MAX_ROWS, MAX_WIDTH, draw_pool

# Which pool shapes reach each size-gated mutant's defect (mirrors its GATE).
GATES = {
    "m01_wide_skips_inner_relu": lambda p: any(w > 64 for _, w in p.square),
    "m02_large_batch_last_row": lambda p: any(r > 32 for r, _, _ in p.dense),
    "m03_wide_input_fresh_kernel": lambda p: any(i > 100 for i, _ in p.vector),
    "m05_wide_output_bias_ones": lambda p: any(o > 100 for _, o in p.vector),
    "m04_deep_shared_one_short": lambda p: any(c.num_layers >= 4 for c in draw_cases(p.seed)),
}
SEEDS = range(1, 301)


def test_every_size_gated_mutant_has_its_gate_here():
    gated = {m.name for m in discover_mutants() if m.gate}
    assert gated == set(GATES), f"size-gated mutants {sorted(gated)} against gates known here {sorted(GATES)}"


@pytest.mark.parametrize("mutant", sorted(GATES))
def test_the_ci_pool_reaches_every_gate(mutant):
    assert GATES[mutant](draw_pool(CI_POOL_SEED)), f"the ci pool never reaches {mutant}'s defect"


@pytest.mark.parametrize("mutant", sorted(GATES))
def test_three_default_runs_reach_every_gate(mutant):
    reached = [GATES[mutant](draw_pool(seed)) for seed in SEEDS]
    windows = [any(reached[i : i + 3]) for i in range(len(reached) - 2)]
    missed = windows.count(False) / len(windows)
    assert missed < 0.01, f"{mutant}: three consecutive pools miss its gate {missed:.1%} of the time"


def test_pools_span_the_ranges_and_keep_the_edge_cases():
    pools = [draw_pool(seed) for seed in SEEDS]
    widths = {w for p in pools for s in p.dense for w in s[1:]} | {w for p in pools for s in p.vector for w in s}
    rows = {s[0] for p in pools for s in p.dense + p.square}
    assert max(widths) > MAX_WIDTH * 0.9 and min(widths) == 1 and max(rows) == MAX_ROWS and min(rows) == 1
    assert any(w % 2 and w > 2 and all(w % q for q in range(2, w)) for w in widths), "no prime width"
    for p in pools:
        assert (1, 1, 1) in p.dense and (1, 1) in p.square and (1, 1) in p.vector, f"pool {p.seed} lost an edge case"
        assert any(i < o for _, i, o in p.dense) and any(i > o for _, i, o in p.dense), f"pool {p.seed}: not both ways"
        assert all(1 <= v <= MAX_WIDTH for s in p.dense for v in s[1:]), f"pool {p.seed} out of range"
