"""Document 04, the block: the post-LN TransformerBlock against a float64 oracle, and its GELU and eps probes."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import assume, given

from conformance.engine.registry import conformance_property
from conformance.kit import strategies as cst
from conformance.kit.assertions import assert_close
from conformance.kit.tolerances import Tolerance, combined

from . import DOCUMENT, Section, calls, layout, probes
from . import strategies as dst
from .calls import BLOCK
from .numerics import oracles
from .params import BlockParams

# --- the block (4. Code Implementation) -----------------------------------------------

# Row statistics of a LayerNorm output with scale 1 and bias 0: mean 0 and variance
# s2/(s2+eps) in (0, 1], s2 the variance of the row that enters it. Only rows with
# s2 >= 99 x the largest accepted eps are judged (the float64 oracle says which):
# there float32 rounding moves both statistics by O(d u / sqrt(s2)) <= 2e-5 at
# d = 1024, and eps moves the variance by 1% at most. In the other rows eps and
# rounding decide the variance, whatever the block.
ROW_MEAN_TOL = 1e-4
ROW_VAR_RANGE = (0.99, 1.0 + 1e-4)
LARGEST_EPS = 1e-5


@conformance_property(
    "04-block-output-rows-normalised",
    document=DOCUMENT,
    section=Section.CODE,
    title="With LayerNorm scale 1 and bias 0 (their initial values) a block's output rows (last axis) have mean ~0 and variance ~1: the block is post-LN",
    hint=f"The document's code is post-LN: x = LN1(x + MHA(x)); x = LN2(x + FFN(x)); its 'Pre-LN' comment is wrong. "
    f"A pre-LN block (x + MHA(LN(x))) returns unnormalised rows. Limits: |mean| <= {ROW_MEAN_TOL:g}, "
    f"variance in [{ROW_VAR_RANGE[0]}, {ROW_VAR_RANGE[1]}] (eps/variance <= 1%, rounding O(d u)). "
    f"Other parameters are random. Rows whose variance entering LN2 is under 99 x eps {LARGEST_EPS:g} (per the "
    f"float64 oracle) are not judged: there eps and rounding set the statistics. A row of one element has "
    f"variance 0 (LayerNorm returns its bias), so width 1 is not drawn.",
    needs=BLOCK,
)
@dst.at_real_sizes(seed=0, data_seed=0, scale=1.0)
@given(case=dst.cases(min_d_model=2), seed=cst.seeds(), data_seed=cst.data_seeds(), scale=dst.input_scales())
def test_block_output_rows_normalised(impl, case, seed, data_seed, scale):
    c = dst.CASES[case]
    d = c.d_model
    x = cst.normal_array(data_seed, c.x_shape, scale)
    shapes = calls.param_shapes(impl, "TransformerBlock", c.dims)
    values = layout.block_roles(impl, c.dims).read(cst.random_params(shapes, seed))
    identity = (np.ones(d), np.zeros(d))
    values = dataclasses.replace(values, norm1=identity, norm2=identity)
    out = calls.apply(impl, "TransformerBlock", c.dims, probes.probe_params(impl, c, values), x).astype(np.float64)
    judged = oracles.block(x, values, eps=LARGEST_EPS).var(-1) >= ROW_VAR_RANGE[0]
    assume(judged.any())  # no row is past eps and rounding: nothing to judge
    mean, var = np.where(judged, out.mean(-1), 0.0), np.where(judged, out.var(-1), 1.0)
    i = np.unravel_index(int(np.argmax(np.abs(mean))), mean.shape)
    j = np.unravel_index(int(np.argmax(np.abs(var - 1.0))), var.shape)
    assert abs(mean[i]) <= ROW_MEAN_TOL and ROW_VAR_RANGE[0] <= var[j] <= ROW_VAR_RANGE[1], (
        f"{calls.describe('TransformerBlock', c.dims)} output rows are not LayerNorm'd: row {tuple(map(int, i))} "
        f"mean {mean[i]:.3g}, row {tuple(map(int, j))} variance {var[j]:.6g} (limits |mean| <= {ROW_MEAN_TOL:g}, "
        f"variance in [{ROW_VAR_RANGE[0]}, {ROW_VAR_RANGE[1]}]); input scale {scale:g}"
    )


@conformance_property(
    "04-block-matches-oracle",
    document=DOCUMENT,
    section=Section.CODE,
    title="TransformerBlock computes LN2(h + FFN(h)), h = LN1(x + MHA(x)), as a float64 oracle does from the same params",
    hint="Post-LN; attention = softmax(q k^T / sqrt(head_dim)) v with q, k, v and out projections with biases; "
    "FFN = Dense(d_ff) -> GELU -> Dense(d_model). The suite finds which leaf is which by shape and behaviour "
    "(or from PARAM_ROLES), whatever the modules are called. The bound is a worst-case float32 bound, loose enough that "
    "GELU and eps variants are left to 04-block-gelu-is-exact and 04-block-layernorm-eps-is-pytorch.",
    needs=BLOCK,
)
@dst.at_real_sizes(seed=0, data_seed=0, scale=1.0)
@given(case=dst.cases(), seed=cst.seeds(), data_seed=cst.data_seeds(), scale=dst.input_scales())
def test_block_matches_oracle(impl, case, seed, data_seed, scale):
    c = dst.CASES[case]
    x = cst.normal_array(data_seed, c.x_shape, scale)
    params = cst.random_params(calls.param_shapes(impl, "TransformerBlock", c.dims), seed)
    found = layout.block_roles(impl, c.dims)
    out = calls.apply(impl, "TransformerBlock", c.dims, params, x)
    match = oracles.closest_layout(x, out, found.readings(params))
    assert_close(
        out,
        match.expected,
        match.tolerance,
        what=f"{calls.describe('TransformerBlock', c.dims)} on random params "
        f"(seed {seed}), input scale {scale:g}; {found.note()}",
    )


@conformance_property(
    "04-block-gelu-is-exact",
    document=DOCUMENT,
    section=Section.CODE,
    title="The FFN's GELU is the exact (erf) GELU of PyTorch's nn.GELU(), not Flax's default tanh approximation",
    hint="Flax's nn.gelu defaults to approximate=True; call nn.gelu(x, approximate=False). Probe: attention "
    "zeroed, LayerNorms identity, fc1 kernel 0 with its bias spread over [-3, 2.6] (where tanh and erf GELU "
    "differ by up to 4.7e-4), so the FFN adds gelu(b1) @ W2 to every row. Any LayerNorm eps in [0, 1e-5] "
    "is accepted here: 04-block-layernorm-eps-is-pytorch judges the eps.",
    needs=BLOCK,
)
@dst.at_real_sizes(seed=0, data_seed=0)
@given(case=dst.cases(), seed=cst.seeds(), data_seed=cst.data_seeds())
def test_block_gelu_is_exact(impl, case, seed, data_seed):
    c = dst.CASES[case]
    d, d_ff = c.d_model, c.d_ff
    rng = np.random.default_rng(seed)
    b1 = np.resize(probes.GELU_PROBE, d_ff) + 0.05 * rng.standard_normal(d_ff)
    w2 = rng.standard_normal((d_ff, d)) * 2.0
    values = BlockParams(
        **probes.zeros_attention(d, c.num_heads),
        fc1=(np.zeros((d, d_ff)), b1),
        fc2=(w2, np.zeros(d)),
        norm1=(np.ones(d), np.zeros(d)),
        norm2=(np.ones(d), np.zeros(d)),
    )
    values = values.as_float32()
    x = cst.normal_array(data_seed, c.x_shape)
    out = calls.apply(impl, "TransformerBlock", c.dims, probes.probe_params(impl, c, values), x)
    expected, tol = oracles.stack(x, values, 1)
    # One defect, one cause: this probe judges the GELU, not the LayerNorms' epsilon (the eps probe
    # does), so any eps from 0 to PyTorch's 1e-5 is accepted. LayerNorm is monotone in eps, so the
    # two ends bound every eps between them.
    eps_free = oracles.block(x, values, eps=0.0)
    tol = combined(
        (1.0, tol),
        (
            1.0,
            Tolerance(
                bound=np.abs(expected - eps_free),
                derivation="|oracle(eps=1e-5) - oracle(eps=0)|: any LayerNorm eps in [0, 1e-5]",
            ),
        ),
    )
    tanh_block = oracles.block(x, values, approximate_gelu=True)
    assert_close(
        out,
        expected,
        tol,
        what=f"{calls.describe('TransformerBlock', c.dims)} on the GELU probe "
        f"(a tanh-GELU block would be off by up to {np.abs(tanh_block - expected).max():.2g})",
    )


@conformance_property(
    "04-block-layernorm-eps-is-pytorch",
    document=DOCUMENT,
    section=Section.CODE,
    title="The block's LayerNorms use PyTorch's eps = 1e-5 (Flax's default is 1e-6)",
    hint="Set nn.LayerNorm(epsilon=1e-5). Probe: attention and FFN zeroed, both LayerNorms with scale "
    "sqrt(1e-5), so the second one normalises rows of variance ~1e-5, where eps 1e-6 gives outputs ~35% larger.",
    needs=BLOCK,
)
@dst.at_real_sizes(data_seed=0, scale=1.0)
@given(case=dst.cases(), data_seed=cst.data_seeds(), scale=dst.input_scales())
def test_block_layernorm_eps_is_pytorch(impl, case, data_seed, scale):
    c = dst.CASES[case]
    d, d_ff = c.d_model, c.d_ff
    norm = (np.full(d, probes.EPS_PROBE_SCALE), np.zeros(d))
    values = BlockParams(
        **probes.zeros_attention(d, c.num_heads),
        fc1=(np.zeros((d, d_ff)), np.zeros(d_ff)),
        fc2=(np.zeros((d_ff, d)), np.zeros(d)),
        norm1=norm,
        norm2=norm,
    ).as_float32()
    x = cst.normal_array(data_seed, c.x_shape, scale)
    out = calls.apply(impl, "TransformerBlock", c.dims, probes.probe_params(impl, c, values), x)
    expected, tol = oracles.stack(x, values, 1)
    flax_default = oracles.block(x, values, eps=1e-6)
    assert_close(
        out,
        expected,
        tol,
        what=f"{calls.describe('TransformerBlock', c.dims)} on the eps probe (eps 1e-6 would give "
        f"values up to {np.abs(flax_default - expected).max():.3g} away)",
    )
