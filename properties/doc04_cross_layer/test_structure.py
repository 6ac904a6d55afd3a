"""Document 04, structure: parameter counts per block and model, where each piece sits, shapes.

Every claim here is read from ``jax.eval_shape``: nothing is compiled, so sizes are free.
"""

from __future__ import annotations

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import assume, example, given
from hypothesis import strategies as st

from conformance.engine.registry import conformance_property
from conformance.kit import trees
from conformance.kit.assertions import assert_raises
from conformance.kit.compiled import abstract_init

from . import DOCUMENT, Section, calls, layout, reading
from . import strategies as dst
from .calls import BLOCK, MODES, SHARED, UNSHARED
from .numerics import param_counts


@conformance_property(
    "04-params-block-is-a-f-2n",
    document=DOCUMENT,
    section=Section.PARAMETER_COUNT,
    title="A TransformerBlock holds A+F+2N parameters: attention 4d^2+4d, FFN 2 d d_ff + d_ff + d, two LayerNorms 2d each",
    hint="Attention needs q, k, v and out projections with biases (as torch.nn.MultiheadAttention); "
    "the FFN two Dense layers with biases; each LayerNorm a scale and a bias.",
    needs=BLOCK,
)
@given(d_model=dst.d_models(), num_heads=dst.head_counts(), d_ff=dst.d_ffs())
def test_params_block_is_a_f_2n(impl, d_model, num_heads, d_ff):
    args = (d_model, num_heads, d_ff)
    n, _ = trees.count_parameters(calls.param_shapes(impl, "TransformerBlock", args))
    want = param_counts.block_params(d_model, d_ff)
    assert n == want, (
        f"{calls.describe('TransformerBlock', args)} has {n:,} parameters, expected A+F+2N = {want:,}; {param_counts.formula_note(d_model, d_ff)}"
    )


@conformance_property(
    "04-params-unshared-is-l-blocks",
    document=DOCUMENT,
    section=Section.PARAMETER_COUNT,
    title="UnsharedTransformer holds L(A+F+2N) parameters: L blocks of their own",
    hint="Create num_layers separate blocks (distinct names / a list of modules), each with its own parameters.",
    needs=UNSHARED,
)
@given(num_layers=dst.layer_counts(), d_model=dst.d_models(), num_heads=dst.head_counts(), d_ff=dst.d_ffs())
def test_params_unshared_is_l_blocks(impl, num_layers, d_model, num_heads, d_ff):
    args = (num_layers, d_model, num_heads, d_ff)
    n, _ = trees.count_parameters(calls.param_shapes(impl, "UnsharedTransformer", args))
    want = param_counts.model_params(None, num_layers, d_model, d_ff)
    assert n == want, (
        f"{calls.describe('UnsharedTransformer', args)} has {n:,} parameters, expected L(A+F+2N) = {want:,}; {param_counts.formula_note(d_model, d_ff)}"
    )


@conformance_property(
    "04-params-shared-all-is-one-block",
    document=DOCUMENT,
    section=Section.PARAMETER_COUNT,
    title="SharedTransformer(share='all') holds one block, A+F+2N parameters: exactly 1/L of the unshared model's count and bytes",
    hint="Create the block once (in setup(), or nn.scan with variable_broadcast='params') and call it L times; "
    "a block, LayerNorm or stacked params per layer multiplies the count.",
    needs=SHARED + UNSHARED,
    modes=("all",),
)
@given(num_layers=dst.layer_counts(), d_model=dst.d_models(), num_heads=dst.head_counts(), d_ff=dst.d_ffs())
@example(num_layers=dst.DOC_LAYERS, d_model=dst.DOC_D_MODEL, num_heads=dst.DOC_HEADS, d_ff=dst.DOC_D_FF)
def test_params_shared_all_is_one_block(impl, num_layers, d_model, num_heads, d_ff):
    args = (num_layers, d_model, num_heads, d_ff)
    shared_n, shared_bytes = trees.count_parameters(calls.param_shapes(impl, "SharedTransformer", args, "all"))
    want = param_counts.model_params("all", num_layers, d_model, d_ff)
    assert shared_n == want, (
        f"{calls.describe('SharedTransformer', args, 'all')} has {shared_n:,} parameters, "
        f"expected one block, A+F+2N = {want:,}; {param_counts.formula_note(d_model, d_ff)}"
    )
    unshared_n, unshared_bytes = trees.count_parameters(calls.param_shapes(impl, "UnsharedTransformer", args))
    assert unshared_n == num_layers * shared_n and unshared_bytes == num_layers * shared_bytes, (
        f"unshared/shared: {unshared_n:,}/{shared_n:,} parameters and {unshared_bytes:,}/{shared_bytes:,} bytes, "
        f"expected a ratio of exactly L={num_layers} for both"
    )


# Checkpoints are written for real (zeros of each model's shapes); past this many parameter bytes the
# property draws other sizes, so that a run never serialises gigabytes.
MAX_CHECKPOINT_BYTES = 2**28


def _checkpoint_bytes(shapes) -> tuple[int, int]:
    """(size of flax.serialization.to_bytes of zeros shaped like ``shapes``, parameter bytes in it)."""
    zeros = jax.tree_util.tree_map(lambda a: np.zeros(a.shape, a.dtype), shapes)
    return len(flax.serialization.to_bytes(zeros)), trees.count_parameters(shapes)[1]


@conformance_property(
    "04-checkpoint-shrinks-by-l",
    document=DOCUMENT,
    section=Section.PARAMETER_COUNT,
    title="On disk, SharedTransformer(share='all')'s checkpoint (flax.serialization.to_bytes of its params) is 1/L "
    "of UnsharedTransformer's, up to the serialisation's framing",
    hint="Store the shared block once; a checkpoint holds what the params tree holds. The allowance is the "
    "framing msgpack adds to each checkpoint (its size less its parameter bytes), relative to the parameter bytes.",
    needs=SHARED + UNSHARED,
    modes=("all",),
)
@given(num_layers=dst.layer_counts(), d_model=dst.d_models(), num_heads=dst.head_counts(), d_ff=dst.d_ffs())
@example(num_layers=dst.DOC_LAYERS, d_model=dst.DOC_D_MODEL, num_heads=dst.DOC_HEADS, d_ff=dst.DOC_D_FF)
def test_checkpoint_shrinks_by_l(impl, num_layers, d_model, num_heads, d_ff):
    args = (num_layers, d_model, num_heads, d_ff)
    unshared_shapes = calls.param_shapes(impl, "UnsharedTransformer", args)
    assume(trees.count_parameters(unshared_shapes)[1] <= MAX_CHECKPOINT_BYTES)
    shared, shared_raw = _checkpoint_bytes(calls.param_shapes(impl, "SharedTransformer", args, "all"))
    unshared, unshared_raw = _checkpoint_bytes(unshared_shapes)
    framing = (shared - shared_raw) / max(shared_raw, 1) + (unshared - unshared_raw) / max(unshared_raw, 1)
    ratio = unshared / shared
    assert abs(ratio - num_layers) <= num_layers * framing, (
        f"checkpoints of {calls.describe('SharedTransformer', args, 'all')} and the unshared model: "
        f"{shared:,} and {unshared:,} bytes, a ratio of {ratio:.4g}; expected L = {num_layers} within "
        f"{num_layers * framing:.3g} (the framing of both checkpoints relative to their parameter bytes)"
    )


def _assert_partial_share_count(impl, share: str, formula: str, other: str, args: tuple) -> None:
    """SharedTransformer(share=...) holds the mode's count; the message says what the other mode would give."""
    num_layers, d_model, _, d_ff = args
    n, _ = trees.count_parameters(calls.param_shapes(impl, "SharedTransformer", args, share))
    want = param_counts.model_params(share, num_layers, d_model, d_ff)
    assert n == want, (
        f"{calls.describe('SharedTransformer', args, share)} has {n:,} parameters, expected {formula} = "
        f"{want:,} (sharing the {other} instead would give "
        f"{param_counts.model_params(other, num_layers, d_model, d_ff):,}); {param_counts.formula_note(d_model, d_ff)}"
    )


@conformance_property(
    "04-params-share-ffn",
    document=DOCUMENT,
    section=Section.ARCHITECTURE,
    title="SharedTransformer(share='ffn') holds L(A+2N)+F parameters: one FFN, attention and LayerNorms per layer",
    hint="FFN-only sharing: create one FFN and pass it to every layer; attention and both LayerNorms stay per layer. "
    "A count of A+L(F+2N) means the attention was shared instead.",
    needs=SHARED,
    modes=("ffn",),
)
@given(num_layers=dst.layer_counts(), d_model=dst.d_models(), num_heads=dst.head_counts(), d_ff=dst.d_ffs())
def test_params_share_ffn(impl, num_layers, d_model, num_heads, d_ff):
    _assert_partial_share_count(impl, "ffn", "L(A+2N)+F", "attention", (num_layers, d_model, num_heads, d_ff))


@conformance_property(
    "04-params-share-attention",
    document=DOCUMENT,
    section=Section.ARCHITECTURE,
    title="SharedTransformer(share='attention') holds A+L(F+2N) parameters: one attention, FFN and LayerNorms per layer",
    hint="Attention-only sharing: create one attention module and pass it to every layer; FFN and both LayerNorms "
    "stay per layer. A count of L(A+2N)+F means the FFN was shared instead.",
    needs=SHARED,
    modes=("attention",),
)
@given(num_layers=dst.layer_counts(), d_model=dst.d_models(), num_heads=dst.head_counts(), d_ff=dst.d_ffs())
def test_params_share_attention(impl, num_layers, d_model, num_heads, d_ff):
    _assert_partial_share_count(impl, "attention", "A+L(F+2N)", "ffn", (num_layers, d_model, num_heads, d_ff))


_LAYOUT = {  # pieces (attention, fc1, fc2, LayerNorm) per model, as functions of L
    "unshared": lambda L: (L, L, L, 2 * L),
    "all": lambda L: (1, 1, 1, 2),
    "ffn": lambda L: (L, 1, 1, 2 * L),
    "attention": lambda L: (1, L, L, 2 * L),
}


@conformance_property(
    "04-sharing-layout-by-piece",
    document=DOCUMENT,
    section=Section.ARCHITECTURE,
    title="Each model holds the right number of each piece: attention, fc1, fc2, LayerNorm = (L,L,L,2L) unshared, "
    "(1,1,1,2) 'all', (L,1,1,2L) 'ffn', (1,L,L,2L) 'attention'",
    hint="Pieces are recognised by what the implementation's own TransformerBlock holds (units of the same "
    "leaf names and shapes, whatever the modules are called; PARAM_ROLES where the suite cannot tell). "
    "share='all' shares the LayerNorms too; 'ffn'/'attention' share only that sub-layer. Modes outside "
    "the module's SHARE_MODES are not drawn.",
    needs=BLOCK + SHARED + UNSHARED,
)
@given(
    num_layers=dst.layer_counts(),
    d_model=dst.d_models(),
    num_heads=dst.head_counts(),
    d_ff=dst.d_ffs(),
    model=st.sampled_from(("unshared",) + MODES),
)
def test_sharing_layout_by_piece(impl, num_layers, d_model, num_heads, d_ff, model):
    args = (num_layers, d_model, num_heads, d_ff)
    export, share = ("UnsharedTransformer", None) if model == "unshared" else ("SharedTransformer", model)
    assume(calls.supports(impl, share))
    sigs = layout.block_signatures(impl, (d_model, num_heads, d_ff))
    got, stray = reading.count_pieces(calls.param_shapes(impl, export, args, share), sigs)
    want = dict(zip(reading.PIECES, _LAYOUT[model](num_layers)))
    assert got == want and not stray, (
        f"{calls.describe(export, args, share)} holds "
        + ", ".join(f"{p} x{'(not whole pieces)' if n is None else n}" for p, n in got.items())
        + (
            f" and {len(stray)} leaves that are no piece of its TransformerBlock ({', '.join(stray[:4])})"
            if stray
            else ""
        )
        + "; expected "
        + ", ".join(f"{p} x{n}" for p, n in want.items())
        + " and nothing else"
    )


@conformance_property(
    "04-share-unknown-mode-raises",
    document=DOCUMENT,
    section=Section.ARCHITECTURE,
    title="SharedTransformer with a share mode other than 'all', 'ffn', 'attention' raises ValueError (at construction or init)",
    hint="Check share against the three modes and raise ValueError; do not fall back to a default mode.",
    needs=SHARED,
)
@given(
    share=st.sampled_from(("none", "ALL", "Ffn", "attn", "block", "", "ffn ", "layers", "mlp")),
    num_layers=dst.layer_counts(),
    d_model=dst.d_models(),
)
def test_share_unknown_mode_raises(impl, share, num_layers, d_model):
    args = (num_layers, d_model, 2, 2 * d_model)
    cls = impl.get("SharedTransformer")

    def build_and_init():
        model = cls(*args, share=share)
        abstract_init(model, (*calls.X_SHAPE, d_model))

    assert_raises(ValueError, build_and_init, what=f"{calls.describe('SharedTransformer', args, share)} and init")


@conformance_property(
    "04-models-preserve-shape",
    document=DOCUMENT,
    section=Section.CODE,
    title="Every model maps (B, S, d_model) to (B, S, d_model) in float32",
    hint="Each block returns its input's shape; the models return the last block's output. Share modes outside "
    "the module's SHARE_MODES are not drawn.",
    needs=BLOCK + SHARED + UNSHARED,
)
@given(case=dst.cases(), model=st.sampled_from(("block", "unshared") + MODES))
def test_models_preserve_shape(impl, case, model):
    c = dst.CASES[case]
    if model == "block":
        export, args, share = "TransformerBlock", c.dims, None
    elif model == "unshared":
        export, args, share = "UnsharedTransformer", (c.num_layers, *c.dims), None
    else:
        export, args, share = "SharedTransformer", (c.num_layers, *c.dims), model
    assume(calls.supports(impl, share))
    shapes = calls.param_shapes(impl, export, args, share)
    model = calls.construct(impl, export, args, share)
    with impl.running(f"{calls.describe(export, args, share)}.apply under jax.eval_shape"):
        out = jax.eval_shape(
            lambda p, x: model.apply({"params": p}, x), shapes, jax.ShapeDtypeStruct(c.x_shape, jnp.float32)
        )
    assert getattr(out, "shape", None) == c.x_shape and out.dtype == jnp.float32, (
        f"{calls.describe(export, args, share)} maps {c.x_shape} float32 to {getattr(out, 'shape', type(out).__name__)} "
        f"{getattr(out, 'dtype', '')}"
    )
