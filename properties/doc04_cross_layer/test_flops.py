"""Document 04, FLOPs: sharing saves parameters, not compute; and how XLA counts a scan."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from hypothesis import assume, given
from hypothesis import strategies as st

from conformance.engine.registry import conformance_property
from conformance.kit import flops as flops_mod
from conformance.kit.compiled import abstract_init

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
    c = dst.CASES[case]
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
    c = dst.CASES[case]
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
