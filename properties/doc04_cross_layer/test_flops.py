"""Document 04, FLOPs: sharing saves parameters, not compute; and how XLA counts a scan."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from hypothesis import assume, example, given
from hypothesis import strategies as st

from conformance.engine.registry import conformance_property
from conformance.kit import flops as flops_mod
from conformance.kit.compiled import abstract_init, once_per_shape

from . import DOCUMENT, Section, calls
from . import strategies as dst
from .calls import BLOCK, MODES, SHARED, UNSHARED
from .constructions import DocBlock, DocScanShared, DocShared, DocUnshared
from .numerics import param_counts

# --- FLOPs (3. Computational Complexity) ---------------------------------------------------


@conformance_property(
    "04-flops-forward-unchanged-by-sharing",
    document=DOCUMENT,
    section=Section.FLOPS,
    title="Forward FLOPs (XLA cost analysis, scans unrolled) are the same for the unshared model and every sharing mode",
    hint=f"Sharing reuses weights but still runs L blocks; a model that skips or repeats a layer changes the count "
    f"by a whole layer. Allowed relative difference {calls.FLOP_REL_TOL:g}. Counts are of the lowered program, "
    f"with every lax.scan replayed as a Python loop (XLA counts a while-loop body once). Share modes outside "
    f"the module's SHARE_MODES are not drawn.",
    needs=SHARED + UNSHARED,
)
@given(case=dst.cases(), share=st.sampled_from(MODES))
def test_flops_forward_unchanged_by_sharing(impl, case, share):
    assume(calls.supports(impl, share))
    c = dst.CASES[case]
    args = (c.num_layers, *c.dims)
    base = calls.flops(impl, "UnsharedTransformer", args, c.x_shape)
    got = calls.flops(impl, "SharedTransformer", args, c.x_shape, share)
    assert abs(got.flops - base.flops) <= calls.FLOP_REL_TOL * base.flops, (
        f"forward FLOPs: {calls.describe('SharedTransformer', args, share)} {got.flops:,.0f} "
        f"({got.scans_unrolled} scan(s) unrolled), unshared {base.flops:,.0f}; relative difference "
        f"{(got.flops - base.flops) / base.flops:+.3g} exceeds {calls.FLOP_REL_TOL:g} ({c})"
    )


@conformance_property(
    "04-flops-model-is-l-blocks",
    document=DOCUMENT,
    section=Section.FLOPS,
    title="A forward pass of the unshared model, and of share='all', costs L times one TransformerBlock's forward FLOPs",
    hint=f"Each of the L layers runs one block, and nothing else runs between or after them (no extra "
    f"LayerNorm, no layer skipped or repeated). Allowed relative difference {calls.FLOP_REL_TOL:g}; "
    f"counts are XLA's, of the lowered programs, scans replayed as loops.",
    needs=BLOCK + SHARED + UNSHARED,
)
@given(case=dst.cases())
def test_flops_model_is_l_blocks(impl, case):
    c = dst.CASES[case]
    args = (c.num_layers, *c.dims)
    block = calls.flops(impl, "TransformerBlock", c.dims, c.x_shape).flops
    want = c.num_layers * block
    for export, share in (("UnsharedTransformer", None), ("SharedTransformer", "all")):
        got = calls.flops(impl, export, args, c.x_shape, share).flops
        assert abs(got - want) <= calls.FLOP_REL_TOL * want, (
            f"forward FLOPs: {calls.describe(export, args, share)} {got:,.0f}, expected L x one block = "
            f"{c.num_layers} x {block:,.0f} = {want:,.0f}; relative difference {(got - want) / want:+.3g} ({c})"
        )


@conformance_property(
    "04-flops-backward-no-saving",
    document=DOCUMENT,
    section=Section.FLOPS,
    title="Sharing saves no compute in training either: gradient FLOPs of share='all' are at least the unshared model's",
    hint="Every application of the shared block must be differentiated; the shared model also pays about (L-1)P "
    "additions to accumulate the per-layer gradients (04-fw-shared-backward-pays-accumulation).",
    needs=SHARED + UNSHARED,
    modes=("all",),
)
@given(case=dst.cases(min_layers=2))
def test_flops_backward_no_saving(impl, case):
    c = dst.CASES[case]
    args = (c.num_layers, *c.dims)
    base = calls.flops(impl, "UnsharedTransformer", args, c.x_shape, grad=True)
    got = calls.flops(impl, "SharedTransformer", args, c.x_shape, "all", grad=True)
    accumulation = (c.num_layers - 1) * param_counts.block_params(c.d_model, c.d_ff)
    assert got.flops >= base.flops, (
        f"gradient FLOPs: shared {got.flops:,.0f} < unshared {base.flops:,.0f} (difference "
        f"{got.flops - base.flops:+,.0f}; gradient accumulation alone would add (L-1)P = {accumulation:,}) ({c})"
    )


@conformance_property(
    "04-fw-scan-body-counted-once",
    document=DOCUMENT,
    section=Section.FLOPS,
    title="XLA's cost analysis counts an nn.scan loop body once: a not-unrolled shared scan looks like one layer; unrolled it equals the Python loop",
    hint="This is why conformance.kit.flops unrolls every scan before counting. If the first part fails, XLA now "
    "multiplies by the trip count and the unrolling is no longer needed (it is still correct).",
)
@given(case=dst.cases(min_layers=2))
def test_fw_scan_body_counted_once(case):
    _scan_body_counted_once(dst.CASES[case])


@once_per_shape  # a count of lowered programs depends on the case alone: each is lowered once per run
def _scan_body_counted_once(c: dst.Case) -> None:
    args = (c.num_layers, *c.dims)
    x = jax.ShapeDtypeStruct(c.x_shape, jnp.float32)
    fwd = {}
    for name, model in (("scan", DocScanShared(*args)), ("loop", DocShared(*args)), ("block", DocBlock(*c.dims))):
        p = abstract_init(model, c.x_shape)
        as_lowered = flops_mod.lowered_flops(model.apply, p, x)
        fwd[name] = (as_lowered, flops_mod.count_flops(model.apply, p, x))
    scan_lowered, scan_unrolled = fwd["scan"]
    block = fwd["block"][0].flops
    assert scan_lowered.while_loops >= 1 and abs(scan_lowered.flops - block) <= 0.01 * block, (
        f"lowered nn.scan: {scan_lowered.flops:,.0f} FLOPs with {scan_lowered.while_loops} while loop(s); one block "
        f"{block:,.0f}, {c.num_layers} blocks {c.num_layers * block:,.0f}"
    )
    loop = fwd["loop"][1].flops
    assert scan_unrolled.exact and abs(scan_unrolled.flops - loop) <= calls.FLOP_REL_TOL * loop, (
        f"unrolled scan {scan_unrolled.flops:,.0f} FLOPs against the Python loop {loop:,.0f}"
    )


@conformance_property(
    "04-fw-shared-backward-pays-accumulation",
    document=DOCUMENT,
    section=Section.FLOPS,
    title="With a Python-loop shared block, forward FLOPs equal the unshared model's and gradient FLOPs exceed them by exactly (L-1)P",
    hint="XLA adds the L per-layer gradients of each of the P shared parameters: (L-1)P additions. XLA sums its "
    "counts in float32, so above 2**24 FLOPs they are exact only to its rounding, which is allowed for "
    "(FlopCount.rounding); one token keeps the counts below 2**24, where they are exact.",
)
@given(case=dst.cases(min_layers=2))
def test_fw_shared_backward_pays_accumulation(case):
    _shared_backward_pays_accumulation(dst.CASES[case])


@once_per_shape
def _shared_backward_pays_accumulation(c: dst.Case) -> None:
    args = (c.num_layers, *c.dims)
    # (L-1)P does not depend on the number of tokens; one token keeps XLA's float32 counts exact.
    x_shape = (1, 1, c.d_model)
    x = jax.ShapeDtypeStruct(x_shape, jnp.float32)
    by_model = {}
    for name, model in (("shared", DocShared(*args)), ("unshared", DocUnshared(*args))):
        p = abstract_init(model, x_shape)
        loss = lambda p, x, model=model: jnp.sum(model.apply(p, x))  # noqa: E731
        by_model[name] = (flops_mod.count_flops(model.apply, p, x), flops_mod.count_flops(jax.grad(loss), p, x))
    want = (c.num_layers - 1) * param_counts.block_params(c.d_model, c.d_ff)
    (fs, gs), (fu, gu) = by_model["shared"], by_model["unshared"]
    forward_tol, grad_tol = fs.rounding + fu.rounding, gs.rounding + gu.rounding
    assert abs(fs.flops - fu.flops) <= forward_tol and abs(gs.flops - gu.flops - want) <= grad_tol, (
        f"forward {fs.flops:,.0f} vs {fu.flops:,.0f} (allowed difference {forward_tol:,.0f}); gradient "
        f"{gs.flops:,.0f} vs {gu.flops:,.0f}: difference {gs.flops - gu.flops:+,.0f}, expected (L-1)P = {want:,} "
        f"within XLA's float32 rounding {grad_tol:,.0f} ({c}, one token)"
    )


def _wider_ff(d: int, d_ff: int) -> int:
    """A second FFN width, different from d_ff and never d or 3d (the pieces are told apart by shape)."""
    return next(w for w in (2 * d_ff, 2 * d_ff + 1, 2 * d_ff + 2) if w not in (d, 3 * d))


def _ffn_slope(flops_at, d: int, d_ff: int) -> tuple[float, int]:
    """FLOPs per unit of d_ff, from two blocks that differ only in d_ff: the attention and LayerNorms cancel."""
    wider = _wider_ff(d, d_ff)
    return (flops_at(wider) - flops_at(d_ff)) / (wider - d_ff), wider


@conformance_property(
    "04-flops-ffn-is-4bsd-dff",
    document=DOCUMENT,
    section=Section.FLOPS,
    title="The FFN's two matmuls cost 4·B·S·d_model·d_ff FLOPs (2·B·S·d_model·d_ff multiply-adds): a block's forward "
    "FLOPs grow by 4·B·S·d_model per unit of d_ff, plus only the FFN's elementwise work (bias, GELU)",
    hint="The FFN is Dense(d_ff) -> GELU -> Dense(d_model), each matmul computed once. Counts are XLA's, of lowered "
    "programs. The formula leaves out the bias adds and the GELU (XLA counts c FLOPs per FFN element per token, c "
    "measured on the suite's own Flax block; up to 2c, and at least c + 16, is allowed for another exact GELU); "
    "relative to the matmuls that is c / (4 d_model), small at real widths. The document writes the formula with L "
    "for the sequence length, the letter it uses for the number of layers elsewhere.",
    needs=BLOCK,
)
@given(sizes=dst.block_sizes())
@example(sizes=(dst.DOC_D_MODEL, dst.DOC_HEADS, dst.DOC_D_FF, 2, 128))  # the document's block, 128-token sequences
def test_flops_ffn_is_4bsd_dff(impl, sizes):
    d_model, num_heads, d_ff, b, s = sizes
    x_shape = (b, s, d_model)

    def impl_flops(width: int) -> float:
        return calls.flops(impl, "TransformerBlock", (d_model, num_heads, width), x_shape).flops

    def doc_flops(width: int) -> float:
        return _doc_block_flops(d_model, num_heads, width, x_shape)

    slope, wider = _ffn_slope(impl_flops, d_model, d_ff)
    doc_slope, _ = _ffn_slope(doc_flops, d_model, d_ff)
    matmuls = 4 * b * s * d_model
    per_element = (doc_slope - matmuls) / (b * s)
    allowed = max(2 * per_element, per_element + 16)
    low, high = matmuls, matmuls + allowed * b * s
    assert low <= slope <= high, (
        f"TransformerBlock({d_model}, {num_heads}, d_ff) on input {x_shape}: forward FLOPs grow by {slope:,.1f} per "
        f"unit of d_ff (d_ff {d_ff} -> {wider}); the two FFN matmuls account for 4 B S d = {matmuls:,}, and the "
        f"elementwise work for at most {allowed:g} per token (the suite's Flax block: {per_element:g}), so expected "
        f"{low:,} to {high:,.0f}; the formula 4 B S d d_ff is within {per_element / (4 * d_model):.2%} of the FFN's "
        f"count at this width"
    )


@functools.cache
def _doc_block_flops(d: int, heads: int, d_ff: int, x_shape: tuple) -> float:
    model = DocBlock(d, heads, d_ff)
    p = abstract_init(model, x_shape)
    return flops_mod.lowered_flops(model.apply, p, jax.ShapeDtypeStruct(x_shape, jnp.float32)).flops
