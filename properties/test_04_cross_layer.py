"""Document 04: cross-layer parameter sharing (ALBERT), ported to Flax Linen.

The document's code is PyTorch. Its block is post-LN (``x = LN1(x + MHA(x));
x = LN2(x + FFN(x))``) with PyTorch's defaults: exact GELU, LayerNorm eps 1e-5,
attention projections with biases. The properties hold an implementation to
that block and to the document's claims about sharing it.

How the suite reads an implementation's parameters, without its key names:

- Counts and bytes: sums over the leaves of ``params`` from ``jax.eval_shape``.
- The shared block inside ``SharedTransformer(share="all")`` and the layers
  of ``UnsharedTransformer``: subtrees with exactly the keys and shapes of the
  implementation's own ``TransformerBlock`` params.
- Inside a block: one ``nn.MultiHeadDotProductAttention``-shaped piece, one
  Dense d->d_ff, one Dense d_ff->d and two LayerNorms, found by shape (see
  :func:`conformance.oracles_transformer.census`).

FLOPs come from XLA's cost analysis of lowered functions of abstract params;
scans are unrolled first so that a while-loop body is not counted once for L
iterations (see :mod:`conformance.flops`).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from hypothesis import example, given
from hypothesis import strategies as st

from conformance import calls_transformer as calls
from conformance import flops as flops_mod
from conformance import oracles_transformer as ot
from conformance.assertions import as_output, assert_close, assert_raises
from conformance.compiled import abstract_init, fast_jit
from conformance.constructions_transformer import DocBlock, DocScanShared, DocShared, DocUnshared
from conformance.registry import claim
from conformance.strategies import data_seeds, normal_array, seeds
from conformance.strategies_transformer import (
    CASES, DOC_D_FF, DOC_D_MODEL, DOC_HEADS, DOC_LAYERS, cases, d_ffs, d_models, head_counts,
    input_scales, layer_counts, random_params,
)
from conformance.tolerances import MARGIN, Tolerance, combined, unit_roundoff

DOC = "04"
SEC_ARCH = "2. Architectural Anatomy and Mathematical Formulation"
SEC_PARAMS = "3. Full Complexity Analysis: Parameter Count"
SEC_FLOPS = "3. Full Complexity Analysis: Computational Complexity (FLOPs)"
SEC_CODE = "4. Code Implementation"

BLOCK = ("TransformerBlock",)
SHARED = ("SharedTransformer",)
UNSHARED = ("UnsharedTransformer",)
MODES = ("all", "ffn", "attention")


# --- parameter counts (3. Parameter Count) ----------------------------------------

def _formula_note(d: int, d_ff: int) -> str:
    return (f"A = 4d^2+4d = {ot.attention_params(d)}, F = 2 d d_ff + d_ff + d = {ot.ffn_params(d, d_ff)}, "
            f"N = 2d = {ot.norm_params(d)} (d={d}, d_ff={d_ff})")


@claim("04-params-block-is-a-f-2n", document=DOC, section=SEC_PARAMS,
       title="A TransformerBlock holds A+F+2N parameters: attention 4d^2+4d, FFN 2 d d_ff + d_ff + d, two LayerNorms 2d each",
       hint="Attention needs q, k, v and out projections with biases (as torch.nn.MultiheadAttention); "
            "the FFN two Dense layers with biases; each LayerNorm a scale and a bias.",
       needs=BLOCK)
@given(d_model=d_models(), num_heads=head_counts(), d_ff=d_ffs())
def test_params_block(impl, d_model, num_heads, d_ff):
    args = (d_model, num_heads, d_ff)
    n, _ = calls.count(calls.param_shapes(impl, "TransformerBlock", args))
    want = ot.block_params(d_model, d_ff)
    assert n == want, f"{calls.describe('TransformerBlock', args)} has {n:,} parameters, expected A+F+2N = {want:,}; {_formula_note(d_model, d_ff)}"


@claim("04-params-unshared-is-l-blocks", document=DOC, section=SEC_PARAMS,
       title="UnsharedTransformer holds L(A+F+2N) parameters: L blocks of their own",
       hint="Create num_layers separate blocks (distinct names / a list of modules), each with its own parameters.",
       needs=UNSHARED)
@given(num_layers=layer_counts(), d_model=d_models(), num_heads=head_counts(), d_ff=d_ffs())
def test_params_unshared(impl, num_layers, d_model, num_heads, d_ff):
    args = (num_layers, d_model, num_heads, d_ff)
    n, _ = calls.count(calls.param_shapes(impl, "UnsharedTransformer", args))
    want = ot.model_params(None, num_layers, d_model, d_ff)
    assert n == want, f"{calls.describe('UnsharedTransformer', args)} has {n:,} parameters, expected L(A+F+2N) = {want:,}; {_formula_note(d_model, d_ff)}"


@claim("04-params-shared-all-is-one-block", document=DOC, section=SEC_PARAMS,
       title="SharedTransformer(share='all') holds one block, A+F+2N parameters: exactly 1/L of the unshared model's count and bytes",
       hint="Create the block once (in setup(), or nn.scan with variable_broadcast='params') and call it L times; "
            "a block, LayerNorm or stacked params per layer multiplies the count.",
       needs=SHARED + UNSHARED)
@given(num_layers=layer_counts(), d_model=d_models(), num_heads=head_counts(), d_ff=d_ffs())
@example(num_layers=DOC_LAYERS, d_model=DOC_D_MODEL, num_heads=DOC_HEADS, d_ff=DOC_D_FF)
def test_params_shared_all(impl, num_layers, d_model, num_heads, d_ff):
    args = (num_layers, d_model, num_heads, d_ff)
    shared_n, shared_bytes = calls.count(calls.param_shapes(impl, "SharedTransformer", args, "all"))
    want = ot.model_params("all", num_layers, d_model, d_ff)
    assert shared_n == want, (f"{calls.describe('SharedTransformer', args, 'all')} has {shared_n:,} parameters, "
                              f"expected one block, A+F+2N = {want:,}; {_formula_note(d_model, d_ff)}")
    unshared_n, unshared_bytes = calls.count(calls.param_shapes(impl, "UnsharedTransformer", args))
    assert unshared_n == num_layers * shared_n and unshared_bytes == num_layers * shared_bytes, (
        f"unshared/shared: {unshared_n:,}/{shared_n:,} parameters and {unshared_bytes:,}/{shared_bytes:,} bytes, "
        f"expected a ratio of exactly L={num_layers} for both")


@claim("04-params-share-ffn", document=DOC, section=SEC_ARCH,
       title="SharedTransformer(share='ffn') holds L(A+2N)+F parameters: one FFN, attention and LayerNorms per layer",
       hint="FFN-only sharing: create one FFN and pass it to every layer; attention and both LayerNorms stay per layer. "
            "A count of A+L(F+2N) means the attention was shared instead.",
       needs=SHARED)
@given(num_layers=layer_counts(), d_model=d_models(), num_heads=head_counts(), d_ff=d_ffs())
def test_params_share_ffn(impl, num_layers, d_model, num_heads, d_ff):
    args = (num_layers, d_model, num_heads, d_ff)
    n, _ = calls.count(calls.param_shapes(impl, "SharedTransformer", args, "ffn"))
    want = ot.model_params("ffn", num_layers, d_model, d_ff)
    assert n == want, (f"{calls.describe('SharedTransformer', args, 'ffn')} has {n:,} parameters, expected L(A+2N)+F = "
                       f"{want:,} (sharing the attention instead would give {ot.model_params('attention', num_layers, d_model, d_ff):,}); "
                       f"{_formula_note(d_model, d_ff)}")


@claim("04-params-share-attention", document=DOC, section=SEC_ARCH,
       title="SharedTransformer(share='attention') holds A+L(F+2N) parameters: one attention, FFN and LayerNorms per layer",
       hint="Attention-only sharing: create one attention module and pass it to every layer; FFN and both LayerNorms "
            "stay per layer. A count of L(A+2N)+F means the FFN was shared instead.",
       needs=SHARED)
@given(num_layers=layer_counts(), d_model=d_models(), num_heads=head_counts(), d_ff=d_ffs())
def test_params_share_attention(impl, num_layers, d_model, num_heads, d_ff):
    args = (num_layers, d_model, num_heads, d_ff)
    n, _ = calls.count(calls.param_shapes(impl, "SharedTransformer", args, "attention"))
    want = ot.model_params("attention", num_layers, d_model, d_ff)
    assert n == want, (f"{calls.describe('SharedTransformer', args, 'attention')} has {n:,} parameters, expected A+L(F+2N) = "
                       f"{want:,} (sharing the FFN instead would give {ot.model_params('ffn', num_layers, d_model, d_ff):,}); "
                       f"{_formula_note(d_model, d_ff)}")


_LAYOUT = {  # pieces (attention, fc1, fc2, LayerNorm) per model, as functions of L
    "unshared": lambda L: (L, L, L, 2 * L),
    "all": lambda L: (1, 1, 1, 2),
    "ffn": lambda L: (L, 1, 1, 2 * L),
    "attention": lambda L: (1, L, L, 2 * L),
}


@claim("04-sharing-layout-by-piece", document=DOC, section=SEC_ARCH,
       title="Each model holds the right number of each piece: attention, fc1, fc2, LayerNorm = (L,L,L,2L) unshared, "
             "(1,1,1,2) 'all', (L,1,1,2L) 'ffn', (1,L,L,2L) 'attention'",
       hint="Pieces are found by shape in Flax's layouts (nn.MultiHeadDotProductAttention, nn.Dense, nn.LayerNorm). "
            "share='all' shares the LayerNorms too; 'ffn'/'attention' share only that sub-layer.",
       needs=SHARED + UNSHARED)
@given(num_layers=layer_counts(), d_model=d_models(), num_heads=head_counts(), d_ff=d_ffs(),
       model=st.sampled_from(("unshared",) + MODES))
def test_sharing_layout(impl, num_layers, d_model, num_heads, d_ff, model):
    args = (num_layers, d_model, num_heads, d_ff)
    export, share = ("UnsharedTransformer", None) if model == "unshared" else ("SharedTransformer", model)
    c = ot.census(calls.param_shapes(impl, export, args, share), d_model, num_heads, d_ff)
    got = tuple(c.count(p) for p in ot.PIECES)
    want = _LAYOUT[model](num_layers)
    assert got == want and not c.stray, (
        f"{calls.describe(export, args, share)} holds {c.summary()}; expected "
        + ", ".join(f"{p} x{n}" for p, n in zip(ot.PIECES, want)) + " and nothing else")


@claim("04-share-unknown-mode-raises", document=DOC, section=SEC_ARCH,
       title="SharedTransformer with a share mode other than 'all', 'ffn', 'attention' raises ValueError (at construction or init)",
       hint="Check share against the three modes and raise ValueError; do not fall back to a default mode.",
       needs=SHARED)
@given(share=st.sampled_from(("none", "ALL", "Ffn", "attn", "block", "", "ffn ", "layers", "mlp")),
       num_layers=layer_counts(), d_model=d_models())
def test_share_unknown_raises(impl, share, num_layers, d_model):
    args = (num_layers, d_model, 2, 2 * d_model)
    cls = impl.get("SharedTransformer")

    def build_and_init():
        model = cls(*args, share=share)
        abstract_init(model, (*calls.X_SHAPE, d_model))

    assert_raises(ValueError, build_and_init, what=f"{calls.describe('SharedTransformer', args, share)} and init")


@claim("04-models-preserve-shape", document=DOC, section=SEC_CODE,
       title="Every model maps (B, S, d_model) to (B, S, d_model) in float32",
       hint="Each block returns its input's shape; the models return the last block's output.",
       needs=BLOCK + SHARED + UNSHARED)
@given(case=cases(), model=st.sampled_from(("block", "unshared") + MODES))
def test_models_preserve_shape(impl, case, model):
    c = CASES[case]
    if model == "block":
        export, args, share = "TransformerBlock", c.dims, None
    elif model == "unshared":
        export, args, share = "UnsharedTransformer", (c.num_layers, *c.dims), None
    else:
        export, args, share = "SharedTransformer", (c.num_layers, *c.dims), model
    shapes = calls.param_shapes(impl, export, args, share)
    model = calls.construct(impl, export, args, share)
    with impl.running(f"{calls.describe(export, args, share)}.apply under jax.eval_shape"):
        out = jax.eval_shape(lambda p, x: model.apply({"params": p}, x), shapes,
                             jax.ShapeDtypeStruct(c.x_shape, jnp.float32))
    assert getattr(out, "shape", None) == c.x_shape and out.dtype == jnp.float32, (
        f"{calls.describe(export, args, share)} maps {c.x_shape} float32 to {getattr(out, 'shape', type(out).__name__)} "
        f"{getattr(out, 'dtype', '')}")


# --- the block (4. Code Implementation) -----------------------------------------------

# Row statistics of a LayerNorm output with scale 1 and bias 0: mean 0 and variance
# s2/(s2+eps) in (0, 1]. Float32 rounding moves both by O(d u) ~ 1e-6 for d <= 8.
ROW_MEAN_TOL = 1e-4
ROW_VAR_RANGE = (0.99, 1.0 + 1e-4)


@claim("04-block-output-rows-normalised", document=DOC, section=SEC_CODE,
       title="With LayerNorm scale 1 and bias 0 (their initial values) a block's output rows (last axis) have mean ~0 and variance ~1: the block is post-LN",
       hint=f"The document's code is post-LN: x = LN1(x + MHA(x)); x = LN2(x + FFN(x)); its 'Pre-LN' comment is wrong. "
            f"A pre-LN block (x + MHA(LN(x))) returns unnormalised rows. Limits: |mean| <= {ROW_MEAN_TOL:g}, "
            f"variance in [{ROW_VAR_RANGE[0]}, {ROW_VAR_RANGE[1]}] (eps/variance <= 1%, rounding O(d u)). "
            f"Other parameters are random.",
       needs=BLOCK)
@given(case=cases(), seed=seeds(), data_seed=data_seeds(), scale=input_scales())
def test_block_rows_normalised(impl, case, seed, data_seed, scale):
    c = CASES[case]
    d = c.d_model
    x = normal_array(data_seed, c.x_shape, scale)
    shapes = calls.param_shapes(impl, "TransformerBlock", c.dims)
    [values] = ot.block_layouts(random_params(shapes, seed), *c.dims)[:1]
    identity = (np.ones(d), np.zeros(d))
    values = dataclasses.replace(values, norm1=identity, norm2=identity)
    out = calls.apply(impl, "TransformerBlock", c.dims, _probe_params(impl, c, values), x).astype(np.float64)
    mean, var = out.mean(-1), out.var(-1)
    i = np.unravel_index(int(np.argmax(np.abs(mean))), mean.shape)
    j = np.unravel_index(int(np.argmax(np.abs(var - 1.0))), var.shape)
    assert abs(mean[i]) <= ROW_MEAN_TOL and ROW_VAR_RANGE[0] <= var[j] <= ROW_VAR_RANGE[1], (
        f"{calls.describe('TransformerBlock', c.dims)} output rows are not LayerNorm'd: row {tuple(map(int, i))} "
        f"mean {mean[i]:.3g}, row {tuple(map(int, j))} variance {var[j]:.6g} (limits |mean| <= {ROW_MEAN_TOL:g}, "
        f"variance in [{ROW_VAR_RANGE[0]}, {ROW_VAR_RANGE[1]}]); input scale {scale:g}")


@claim("04-block-matches-oracle", document=DOC, section=SEC_CODE,
       title="TransformerBlock computes LN2(h + FFN(h)), h = LN1(x + MHA(x)), as a float64 oracle does from the same params",
       hint="Post-LN; attention = softmax(q k^T / sqrt(head_dim)) v with q, k, v and out projections with biases; "
            "FFN = Dense(d_ff) -> GELU -> Dense(d_model). The suite reads params in Flax's nn.MultiHeadDotProductAttention "
            "/ nn.Dense / nn.LayerNorm layouts, found by shape. The bound is a worst-case float32 bound, loose enough that "
            "GELU and eps variants are left to 04-block-gelu-is-exact and 04-block-layernorm-eps-is-pytorch.",
       needs=BLOCK)
@given(case=cases(), seed=seeds(), data_seed=data_seeds(), scale=input_scales())
def test_block_matches_oracle(impl, case, seed, data_seed, scale):
    c = CASES[case]
    x = normal_array(data_seed, c.x_shape, scale)
    params = random_params(calls.param_shapes(impl, "TransformerBlock", c.dims), seed)
    layouts = ot.block_layouts(params, *c.dims)
    out = calls.apply(impl, "TransformerBlock", c.dims, params, x)
    _, expected, tol = ot.closest_layout(x, out, layouts)
    assert_close(out, expected, tol, what=f"{calls.describe('TransformerBlock', c.dims)} on random params (seed {seed}), input scale {scale:g}")


def _probe_params(impl, c, values: ot.BlockParams):
    """The implementation's block params holding ``values`` (both LayerNorms get norm1's values)."""
    shapes = calls.param_shapes(impl, "TransformerBlock", c.dims)
    cen = ot.census(shapes, *c.dims)
    ot.require_block_pieces(cen, *c.dims)
    tree = shapes
    pieces = {"fc1": values.fc1, "fc2": values.fc2}
    for piece, (kernel, bias) in pieces.items():
        tree = ot.set_paths(tree, [cen.found[piece][0][0]], {"kernel": kernel.astype(np.float32), "bias": bias.astype(np.float32)})
    tree = ot.set_paths(tree, [p for p, _, _ in cen.found["norm"]],
                        {"scale": values.norm1[0].astype(np.float32), "bias": values.norm1[1].astype(np.float32)})
    att = {n: {"kernel": getattr(values, n)[0].astype(np.float32), "bias": getattr(values, n)[1].astype(np.float32)}
           for n in ("query", "key", "value", "out")}
    return ot.set_paths(tree, [cen.found["attention"][0][0]], att)


def _zeros_attention(d: int, heads: int) -> dict:
    hd = d // heads
    proj = (np.zeros((d, heads, hd)), np.zeros((heads, hd)))
    return dict(query=proj, key=proj, value=proj, out=(np.zeros((heads, hd, d)), np.zeros(d)))


GELU_PROBE = np.array([-3.0, -2.2, -1.5, -0.7, 0.4, 1.1, 2.0, 2.6])


@claim("04-block-gelu-is-exact", document=DOC, section=SEC_CODE,
       title="The FFN's GELU is the exact (erf) GELU of PyTorch's nn.GELU(), not Flax's default tanh approximation",
       hint="Flax's nn.gelu defaults to approximate=True; call nn.gelu(x, approximate=False). Probe: attention "
            "zeroed, LayerNorms identity, fc1 kernel 0 with its bias spread over [-3, 2.6] (where tanh and erf GELU "
            "differ by up to 4.7e-4), so the FFN adds gelu(b1) @ W2 to every row.",
       needs=BLOCK)
@given(case=cases(), seed=seeds(), data_seed=data_seeds())
def test_block_gelu_exact(impl, case, seed, data_seed):
    c = CASES[case]
    d, d_ff = c.d_model, c.d_ff
    rng = np.random.default_rng(seed)
    b1 = np.resize(GELU_PROBE, d_ff) + 0.05 * rng.standard_normal(d_ff)
    w2 = rng.standard_normal((d_ff, d)) * 2.0
    values = ot.BlockParams(**_zeros_attention(d, c.num_heads), fc1=(np.zeros((d, d_ff)), b1), fc2=(w2, np.zeros(d)),
                            norm1=(np.ones(d), np.zeros(d)), norm2=(np.ones(d), np.zeros(d)))
    values = _as_float32(values)
    x = normal_array(data_seed, c.x_shape)
    out = calls.apply(impl, "TransformerBlock", c.dims, _probe_params(impl, c, values), x)
    expected, tol = ot.stack(x, values, 1)
    tanh_block, _ = ot.stack(x, values, 1, approximate_gelu=True)
    assert_close(out, expected, tol, what=f"{calls.describe('TransformerBlock', c.dims)} on the GELU probe "
                 f"(a tanh-GELU block would be off by up to {np.abs(tanh_block - expected).max():.2g})")


def _as_float32(values: ot.BlockParams) -> ot.BlockParams:
    cast = lambda pair: tuple(np.asarray(a, np.float32).astype(np.float64) for a in pair)  # noqa: E731
    return ot.BlockParams(**{f: cast(getattr(values, f)) for f in ot.BlockParams.__dataclass_fields__})


EPS_PROBE_SCALE = 10 ** -2.5  # sqrt(1e-5): LayerNorm scale that makes the second norm's input variance ~ eps


@claim("04-block-layernorm-eps-is-pytorch", document=DOC, section=SEC_CODE,
       title="The block's LayerNorms use PyTorch's eps = 1e-5 (Flax's default is 1e-6)",
       hint="Set nn.LayerNorm(epsilon=1e-5). Probe: attention and FFN zeroed, both LayerNorms with scale "
            "sqrt(1e-5), so the second one normalises rows of variance ~1e-5, where eps 1e-6 gives outputs ~35% larger.",
       needs=BLOCK)
@given(case=cases(), data_seed=data_seeds(), scale=input_scales())
def test_block_layernorm_eps(impl, case, data_seed, scale):
    c = CASES[case]
    d, d_ff = c.d_model, c.d_ff
    norm = (np.full(d, EPS_PROBE_SCALE), np.zeros(d))
    values = _as_float32(ot.BlockParams(**_zeros_attention(d, c.num_heads), fc1=(np.zeros((d, d_ff)), np.zeros(d_ff)),
                                        fc2=(np.zeros((d_ff, d)), np.zeros(d)), norm1=norm, norm2=norm))
    x = normal_array(data_seed, c.x_shape, scale)
    out = calls.apply(impl, "TransformerBlock", c.dims, _probe_params(impl, c, values), x)
    expected, tol = ot.stack(x, values, 1)
    flax_default, _ = ot.stack(x, values, 1, eps=1e-6)
    assert_close(out, expected, tol, what=f"{calls.describe('TransformerBlock', c.dims)} on the eps probe (eps 1e-6 would give "
                 f"values up to {np.abs(flax_default - expected).max():.3g} away)")


# --- sharing (2. Shared-Parameter Transformer Structure) -------------------------------------

def _layer_slots(tree, block_shapes, expected: int, where: str, allow_stacked: bool) -> list:
    """Where the ``expected`` block-shaped layers of ``tree`` sit; together they hold every leaf."""
    slots = ot.find_layers(tree, block_shapes)
    per_block, total = ot.leaf_count(block_shapes), ot.leaf_count(tree)
    stacked = [s for s in slots if s[1] is not None]
    if len(slots) != expected or expected * per_block != total or (stacked and not allow_stacked):
        kind = "subtree(s) with the keys and shapes of TransformerBlock's params" + \
            (" (or stacked along axis 0)" if allow_stacked else "")
        raise AssertionError(
            f"{where}: expected exactly {expected} {kind} holding all {total:,} parameters; found {len(slots)} "
            f"({sorted({p for p, _ in slots})[:4]}{', stacked' if stacked else ''}), {per_block:,} parameters per block")
    return slots


def _shared_setup(impl, c, seed: int):
    """Random params for SharedTransformer(share='all'), and the path and values of its one block."""
    args = (c.num_layers, *c.dims)
    shared_shapes = calls.param_shapes(impl, "SharedTransformer", args, "all")
    block_shapes = calls.param_shapes(impl, "TransformerBlock", c.dims)
    [slot] = _layer_slots(shared_shapes, block_shapes, 1, calls.describe("SharedTransformer", args, "all"), False)
    params = random_params(shared_shapes, seed)
    return args, params, ot.get_layer(params, slot), slot, block_shapes


@claim("04-shared-all-is-block-applied-l-times", document=DOC, section=SEC_ARCH,
       title="SharedTransformer(share='all') holds one block-shaped subtree and equals TransformerBlock applied L times with it",
       hint="h_l = Block_shared(h_{l-1}) for l = 1..L with the same weights at every layer: call one block L times "
            "(or nn.scan with variable_broadcast='params'); no extra layer, no skipped layer, nothing between blocks. "
            "Section 2 writes h_l = h_{l-1} + Block(h_{l-1}), but the document's code (followed here) keeps the "
            "residual inside the block; an extra outer residual fails this.",
       needs=BLOCK + SHARED)
@given(case=cases(), seed=seeds(), data_seed=data_seeds(), scale=input_scales())
def test_shared_is_block_repeated(impl, case, seed, data_seed, scale):
    c = CASES[case]
    x = normal_array(data_seed, c.x_shape, scale)
    args, params, block_params, _, _ = _shared_setup(impl, c, seed)
    shared = calls.apply(impl, "SharedTransformer", args, params, x, "all")
    h = x
    for _ in range(c.num_layers):
        h = calls.apply(impl, "TransformerBlock", c.dims, block_params, h)
    _, _, tol = ot.closest_layout(x, shared, ot.block_layouts(block_params, *c.dims), c.num_layers)
    assert_close(shared, h, combined((1.0, tol), (1.0, tol)),
                 what=f"{calls.describe('SharedTransformer', args, 'all')} against its block applied {c.num_layers} times")


def _unshared_copy(impl, c, block_params):
    args = (c.num_layers, *c.dims)
    shapes = calls.param_shapes(impl, "UnsharedTransformer", args)
    block_shapes = calls.param_shapes(impl, "TransformerBlock", c.dims)
    slots = _layer_slots(shapes, block_shapes, c.num_layers, calls.describe("UnsharedTransformer", args), True)
    return args, ot.place_layers(shapes, slots, block_params), slots


@claim("04-unshared-with-copied-block-equals-shared", document=DOC, section=SEC_ARCH,
       title="UnsharedTransformer with the shared block's params copied into each of its L layers gives the shared model's output",
       hint="Both models must run the same block L times; they may differ only in where the parameters live.",
       needs=BLOCK + SHARED + UNSHARED)
@given(case=cases(min_layers=2), seed=seeds(), data_seed=data_seeds())
def test_unshared_copy_equals_shared(impl, case, seed, data_seed):
    c = CASES[case]
    x = normal_array(data_seed, c.x_shape)
    r = normal_array(data_seed + 1, c.x_shape)
    args, params, block_params, _, _ = _shared_setup(impl, c, seed)
    u_args, u_params, _ = _unshared_copy(impl, c, block_params)
    shared, _ = calls.out_and_grad(impl, "SharedTransformer", args, params, x, r, "all")
    unshared, _ = calls.out_and_grad(impl, "UnsharedTransformer", u_args, u_params, x, r)
    _, _, tol = ot.closest_layout(x, shared, ot.block_layouts(block_params, *c.dims), c.num_layers)
    assert_close(unshared, shared, combined((1.0, tol), (1.0, tol)),
                 what=f"{calls.describe('UnsharedTransformer', u_args)} with the shared block in every layer, against the shared model")


# Reverse mode through L blocks: each gradient entry is a sum over B*S positions of
# products through about 8 dot products per block (length <= k = max(d, d_ff, S, B*S)),
# so a float32 gradient is within about 8 L gamma_k of the exact one, relative to the
# gradients' overall magnitude G = max over all leaves of sum_l |g_l|. The bound is
# normwise over the whole block, not per leaf: some entries are exactly 0 in exact
# arithmetic (softmax ignores the key bias) and are pure rounding noise in float32.
def _grad_tolerance(c, shape: tuple, magnitude: float) -> Tolerance:
    k = max(c.d_model, c.d_ff, c.seq, c.batch * c.seq)
    rel = 2 * MARGIN * 8 * c.num_layers * k * unit_roundoff(np.float32)
    return Tolerance(bound=np.full(shape, rel * magnitude),
                     derivation=f"normwise: 2 x {MARGIN:g} x 8 L k u x G = {rel:.3g} x {magnitude:.3g}, G = max over "
                                f"the block of sum_l |layer gradient| (L={c.num_layers}, k={k}, u=2^-24)")


@claim("04-shared-grad-is-sum-of-layer-grads", document=DOC, section=SEC_ARCH,
       title="The gradient of the shared block's params is the sum over layers of the unshared model's per-layer gradients (same params in every layer)",
       hint="Every application of the shared block must feed its gradient back to the one set of params: no "
            "stop_gradient, no detached copy, no per-layer params that are merely initialised equal.",
       needs=BLOCK + SHARED + UNSHARED)
@given(case=cases(min_layers=2), seed=seeds(), data_seed=data_seeds())
def test_shared_grad_sums_layers(impl, case, seed, data_seed):
    c = CASES[case]
    x = normal_array(data_seed, c.x_shape)
    r = normal_array(data_seed + 1, c.x_shape)
    args, params, block_params, slot, _ = _shared_setup(impl, c, seed)
    u_args, u_params, slots = _unshared_copy(impl, c, block_params)
    _, shared_grads = calls.out_and_grad(impl, "SharedTransformer", args, params, x, r, "all")
    _, unshared_grads = calls.out_and_grad(impl, "UnsharedTransformer", u_args, u_params, x, r)
    g_shared = ot.get_layer(shared_grads, slot)
    layers = [ot.get_layer(unshared_grads, s) for s in slots]
    total = jax.tree_util.tree_map(lambda *gs: np.sum([np.asarray(g, np.float64) for g in gs], axis=0), *layers)
    magnitude = max(float(np.sum([np.abs(np.asarray(g, np.float64)) for g in gs], axis=0).max(initial=0.0))
                    for gs in zip(*(jax.tree_util.tree_leaves(layer) for layer in layers)))
    leaves_s, _ = jax.tree_util.tree_flatten_with_path(g_shared)
    leaves_t = jax.tree_util.tree_leaves(total)
    for (key_path, got), want in zip(leaves_s, leaves_t):
        name = jax.tree_util.keystr(key_path)
        got = as_output(got, what=f"gradient {name}", shape=np.shape(want))
        assert_close(got, want, _grad_tolerance(c, np.shape(want), magnitude),
                     what=f"gradient of the shared block's {name} (expected the sum over {c.num_layers} layers)")


# --- FLOPs (3. Computational Complexity) ---------------------------------------------------

# Replaying a scan as a Python loop gives exactly the Python loop's count for the
# reference and the nn.scan variant; the allowance covers a conforming model that adds
# a few elementwise operations (a cast, loop bookkeeping). One layer is >= 1/3 of the
# total at these sizes, so a skipped or repeated layer is far outside it.
FLOP_REL_TOL = 1e-3


@claim("04-flops-forward-unchanged-by-sharing", document=DOC, section=SEC_FLOPS,
       title="Forward FLOPs (XLA cost analysis, scans unrolled) are the same for the unshared model and every sharing mode",
       hint=f"Sharing reuses weights but still runs L blocks; a model that skips or repeats a layer changes the count "
            f"by a whole layer. Allowed relative difference {FLOP_REL_TOL:g}. Counts are of the lowered program, "
            f"with every lax.scan replayed as a Python loop (XLA counts a while-loop body once).",
       needs=SHARED + UNSHARED)
@given(case=cases(), share=st.sampled_from(MODES))
def test_flops_forward_equal(impl, case, share):
    c = CASES[case]
    args = (c.num_layers, *c.dims)
    base = calls.flops(impl, "UnsharedTransformer", args, c.x_shape)
    got = calls.flops(impl, "SharedTransformer", args, c.x_shape, share)
    assert abs(got.flops - base.flops) <= FLOP_REL_TOL * base.flops, (
        f"forward FLOPs: {calls.describe('SharedTransformer', args, share)} {got.flops:,.0f} "
        f"({got.scans_unrolled} scan(s) unrolled), unshared {base.flops:,.0f}; relative difference "
        f"{(got.flops - base.flops) / base.flops:+.3g} exceeds {FLOP_REL_TOL:g} ({c})")


@claim("04-flops-backward-no-saving", document=DOC, section=SEC_FLOPS,
       title="Sharing saves no compute in training either: gradient FLOPs of share='all' are at least the unshared model's",
       hint="Every application of the shared block must be differentiated; the shared model also pays about (L-1)P "
            "additions to accumulate the per-layer gradients (04-fw-shared-backward-pays-accumulation).",
       needs=SHARED + UNSHARED)
@given(case=cases(min_layers=2))
def test_flops_backward_no_saving(impl, case):
    c = CASES[case]
    args = (c.num_layers, *c.dims)
    base = calls.flops(impl, "UnsharedTransformer", args, c.x_shape, grad=True)
    got = calls.flops(impl, "SharedTransformer", args, c.x_shape, "all", grad=True)
    accumulation = (c.num_layers - 1) * ot.block_params(c.d_model, c.d_ff)
    assert got.flops >= base.flops, (
        f"gradient FLOPs: shared {got.flops:,.0f} < unshared {base.flops:,.0f} (difference "
        f"{got.flops - base.flops:+,.0f}; gradient accumulation alone would add (L-1)P = {accumulation:,}) ({c})")


# --- what Flax and XLA do (framework properties) -------------------------------------------

def _doc_count(model, d: int) -> int:
    shapes = abstract_init(model, (1, 2, d))
    return calls.count(shapes["params"])[0]


_doc_count_cached = functools.cache(lambda cls, args: _doc_count(cls(*args), args[-3]))


@functools.cache
def _mha_count(d: int, heads: int) -> int:
    mha = nn.MultiHeadDotProductAttention(num_heads=heads, qkv_features=d, out_features=d)
    return calls.count(abstract_init(mha, (1, 2, d), (1, 2, d))["params"])[0]


@claim("04-fw-block-params-formula", document=DOC, section=SEC_PARAMS,
       title="The document's block built from Flax modules (MultiHeadDotProductAttention with biases, 2 Dense, 2 LayerNorm) "
             "holds A+F+2N parameters; at d=512, 8 heads, d_ff=2048, L=12 that is 3,152,384 shared, 37,828,608 unshared",
       hint="The document prints 4,205,824 and 50,468,352 for that configuration; neither follows from its code, and "
            "50,468,352 is not 12 x 4,205,824. If this fails, Flax's attention or LayerNorm parameter layout changed.")
@given(num_layers=layer_counts(), d_model=d_models(), num_heads=head_counts(), d_ff=d_ffs())
@example(num_layers=DOC_LAYERS, d_model=DOC_D_MODEL, num_heads=DOC_HEADS, d_ff=DOC_D_FF)
def test_fw_block_params_formula(num_layers, d_model, num_heads, d_ff):
    dims = (d_model, num_heads, d_ff)
    n_mha = _mha_count(d_model, num_heads)
    assert n_mha == ot.attention_params(d_model), f"Flax MHA(d={d_model}, heads={num_heads}) has {n_mha:,} params, expected 4d^2+4d = {ot.attention_params(d_model):,}"
    block = _doc_count_cached(DocBlock, dims)
    shared = _doc_count_cached(DocShared, (num_layers, *dims))
    unshared = _doc_count_cached(DocUnshared, (num_layers, *dims))
    want = ot.block_params(d_model, d_ff)
    assert (block, shared, unshared) == (want, want, num_layers * want), (
        f"block/shared/unshared = {block:,}/{shared:,}/{unshared:,}, expected {want:,}/{want:,}/{num_layers * want:,}; "
        f"{_formula_note(d_model, d_ff)}")


@functools.cache
def _flax_gelu_default():
    return fast_jit(lambda x: nn.gelu(x))


@functools.cache
def _flax_layer_norm_default(d: int):
    ln = nn.LayerNorm()
    # init and apply in one jitted call: eager init would compile each primitive per width.
    return fast_jit(lambda x: ln.apply(ln.init(jax.random.PRNGKey(0), x), x))


@claim("04-fw-gelu-default-is-tanh", document=DOC, section=SEC_CODE,
       title="Flax's nn.gelu defaults to the tanh approximation, up to ~4.7e-4 away from PyTorch's exact nn.GELU()",
       hint="A port that wants the document's (PyTorch's) numbers must pass approximate=False. If this fails, "
            "Flax changed nn.gelu's default.")
@given(data_seed=data_seeds())
def test_fw_gelu_default(data_seed):
    x = np.concatenate([normal_array(data_seed, (64,), 2.0), GELU_PROBE.astype(np.float32)])
    got = np.asarray(_flax_gelu_default()(x), np.float64)
    tanh, exact = ot.gelu_tanh(x), ot.gelu_exact(x)
    tol = Tolerance(bound=MARGIN * 8 * unit_roundoff() * (np.abs(tanh) + np.abs(x)),
                    derivation=f"{MARGIN:g} x 8 u (|gelu| + |x|) for a few elementwise float32 ops")
    assert_close(got, tanh, tol, what="nn.gelu(x) with default arguments against the tanh formula")
    gap = float(np.abs(tanh - exact).max())
    assert 1e-4 < gap < 5e-4, f"max |tanh GELU - exact GELU| over the sample is {gap:.3g}, expected between 1e-4 and 5e-4"


@claim("04-fw-layernorm-default-eps", document=DOC, section=SEC_CODE,
       title="Flax's nn.LayerNorm defaults to eps 1e-6, not PyTorch's 1e-5; on rows of variance 1e-5 that changes the output by ~35%",
       hint="A port that wants the document's numbers must pass epsilon=1e-5. If this fails, Flax changed the default.")
@given(data_seed=data_seeds(), d_model=d_models())
def test_fw_layernorm_default_eps(data_seed, d_model):
    x = normal_array(data_seed, (4, d_model)) * np.float32(10 ** -2.5)
    x = x - x.mean(-1, keepdims=True)
    got = np.asarray(_flax_layer_norm_default(d_model)(x), np.float64)
    (flax_eps, tol), (torch_eps, _) = ot.layer_norm(x, 1e-6), ot.layer_norm(x, 1e-5)
    assert_close(got, flax_eps, tol, what="nn.LayerNorm() output against LayerNorm with eps 1e-6")
    ratio = float(np.abs(flax_eps).max() / np.abs(torch_eps).max())
    assert ratio > 1.05, f"eps 1e-6 and 1e-5 differ by a factor {ratio:.4f} on this input, expected a visible difference"


@claim("04-fw-scan-body-counted-once", document=DOC, section=SEC_FLOPS,
       title="XLA's cost analysis counts an nn.scan loop body once: a not-unrolled shared scan looks like one layer; unrolled it equals the Python loop",
       hint="This is why conformance.flops unrolls every scan before counting. If the first part fails, XLA now "
            "multiplies by the trip count and the unrolling is no longer needed (it is still correct).")
@given(case=cases(min_layers=2))
def test_fw_scan_counted_once(case):
    c = CASES[case]
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
        f"{block:,.0f}, {c.num_layers} blocks {c.num_layers * block:,.0f}")
    loop = fwd["loop"][1].flops
    assert scan_unrolled.exact and abs(scan_unrolled.flops - loop) <= FLOP_REL_TOL * loop, (
        f"unrolled scan {scan_unrolled.flops:,.0f} FLOPs against the Python loop {loop:,.0f}")


@claim("04-fw-shared-backward-pays-accumulation", document=DOC, section=SEC_FLOPS,
       title="With a Python-loop shared block, forward FLOPs equal the unshared model's and gradient FLOPs exceed them by exactly (L-1)P",
       hint="XLA adds the L per-layer gradients of each of the P shared parameters: (L-1)P additions. At large sizes "
            "XLA's count can miss the bias/LayerNorm part (about 0.2% of (L-1)P at d=512, L=12, B=2, S=128).")
@given(case=cases(min_layers=2))
def test_fw_backward_accumulation(case):
    c = CASES[case]
    args = (c.num_layers, *c.dims)
    x = jax.ShapeDtypeStruct(c.x_shape, jnp.float32)
    counts = {}
    for name, model in (("shared", DocShared(*args)), ("unshared", DocUnshared(*args))):
        p = abstract_init(model, c.x_shape)
        loss = lambda p, x, model=model: jnp.sum(model.apply(p, x))  # noqa: E731
        counts[name] = (flops_mod.count_flops(model.apply, p, x).flops, flops_mod.count_flops(jax.grad(loss), p, x).flops)
    P = ot.block_params(c.d_model, c.d_ff)
    (fs, gs), (fu, gu) = counts["shared"], counts["unshared"]
    assert fs == fu and gs - gu == (c.num_layers - 1) * P, (
        f"forward {fs:,.0f} vs {fu:,.0f}; gradient {gs:,.0f} vs {gu:,.0f}: difference {gs - gu:+,.0f}, "
        f"expected (L-1)P = {(c.num_layers - 1) * P:,} ({c})")
