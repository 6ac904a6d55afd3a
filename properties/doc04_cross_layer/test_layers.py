"""Document 04, layers: the unshared stack runs L blocks of its own, in order; partial sharing equals its unshared twin.

Every model here is read by :mod:`.reading.stack`: which attention, FFN and
LayerNorms each layer uses, in the order the model runs them, found by what the
model does. The properties then hold that reading to the document: which pieces
are shared, that the layers run in the order their parameters are laid out, and
that the whole computes the float64 oracle of those layers, outputs and gradients.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from conformance.engine.registry import conformance_property
from conformance.kit import strategies as cst
from conformance.kit.assertions import assert_close
from conformance.kit.tolerances import combined

from . import DOCUMENT, Section, calls, layout, reading
from . import strategies as dst
from .calls import BLOCK, SHARED, UNSHARED
from .numerics import drift, oracles

# A BlockParams field, and the kind of piece it belongs to in a stack.
FIELD_KIND = {"query": "attention", "key": "attention", "value": "attention", "out": "attention",
              "fc1": "ffn", "fc2": "ffn", "norm1": "ln1", "norm2": "ln2"}  # fmt: skip
SHARED_KIND = {None: None, "ffn": "ffn", "attention": "attention"}


def _assert_sharing(stack: reading.Stack, share: str | None, what: str) -> None:
    """The stack shares exactly what the mode shares, with every layer, and runs its layers in layout order."""
    for kind in ("attention", "ffn", "ln1", "ln2"):
        used = [layer.pieces()[kind] for layer in stack.layers]
        if kind == SHARED_KIND[share]:
            ok, want = len(set(used)) == 1, f"one {kind} used by all {len(stack.layers)} layers"
        else:
            ok, want = len(set(used)) == len(used), f"a {kind} of its own in every layer"
        assert ok, (
            f"{what}: expected {want}; the layers use {[layer.pieces()[kind].where for layer in stack.layers]} "
            f"(read by behaviour: {stack.describe()})"
        )
    wrong = stack.out_of_order()
    assert wrong is None, f"{what}: {wrong}"


def _stack_case(impl, c, export: str, share: str | None, seed: int):
    args = (c.num_layers, *c.dims)
    stack = layout.model_stack(impl, export, args, share, c.x_shape)
    params = cst.random_params(calls.param_shapes(impl, export, args, share), seed)
    return args, stack, params


@conformance_property(
    "04-unshared-runs-its-layers-in-order",
    document=DOCUMENT,
    section=Section.VANILLA,
    title="UnsharedTransformer with distinct random parameters in every layer equals its own TransformerBlock "
    "applied layer by layer, in the order the layers sit in its parameters, and the float64 oracle of that sequence",
    hint="Create L blocks and apply them in order, each to the previous one's output: h_l = Block_l(h_{l-1}), the "
    "residuals inside the block (the document's code; its text's extra outer residual would fail this). The suite "
    "finds which layer uses which parameters by behaviour and reports the order it found; layer i is the i-th "
    "block-shaped subtree in natural key order (layers_2 before layers_10, nnx.List indices, a stacked axis).",
    needs=BLOCK + UNSHARED,
)
@dst.at_real_sizes(seed=0, data_seed=0, scale=1.0)
@given(case=dst.cases(), seed=cst.seeds(), data_seed=cst.data_seeds(), scale=dst.input_scales())
def test_unshared_runs_its_layers_in_order(impl, case, seed, data_seed, scale):
    c = dst.CASES[case]
    args, stack, params = _stack_case(impl, c, "UnsharedTransformer", None, seed)
    what = calls.describe("UnsharedTransformer", args)
    _assert_sharing(stack, None, what)
    x = cst.normal_array(data_seed, c.x_shape, scale)
    # The gradient program also served the stack's probes: one compiled program per case.
    out, _ = calls.out_and_grad(impl, "UnsharedTransformer", args, params, x, x)
    layers = stack.read(params)
    expected, tol = oracles.stack(x, layers, c.num_layers)
    assert_close(out, expected, tol, what=f"{what} on distinct random params (seed {seed}), input scale {scale:g}")
    roles = layout.block_roles(impl, c.dims)
    block_shapes = calls.param_shapes(impl, "TransformerBlock", c.dims)
    h = x
    for values in layers:
        h = calls.apply(impl, "TransformerBlock", c.dims, roles.write(block_shapes, values), h)
    assert_close(
        out, h, combined((1.0, tol), (1.0, tol)), what=f"{what} against its TransformerBlock applied layer by layer"
    )


def _assert_layer_grads(stack, actual, expected, measured, c, what: str) -> None:
    """Each piece's gradient equals the sum of the expected per-layer gradients of the layers that use it."""
    actual_layers = stack.read(actual)
    magnitude = max(
        float(np.sum([np.abs(a) for a in arrays], axis=0).max(initial=0.0))
        for arrays in zip(*(v.arrays() for v in expected))
    )
    for k, layer in enumerate(stack.layers):
        for field, kind in FIELD_KIND.items():
            users = stack.users(layer.pieces()[kind])
            if users[0] != k:
                continue  # a shared piece is checked once
            for i, got in enumerate(getattr(actual_layers[k], field)):
                want = np.sum([getattr(expected[j], field)[i] for j in users], axis=0)
                tol = oracles.gradient_tolerance(
                    c.num_layers, c.longest_contraction, np.shape(want), magnitude, measured
                )
                leaf = ("kernel" if field not in ("norm1", "norm2") else "scale") if i == 0 else "bias"
                assert_close(
                    got,
                    want,
                    tol,
                    scale=magnitude,
                    what=f"{what}: gradient of {field}.{leaf} at {layer.pieces()[kind].where} "
                    f"(the sum over layers {[j + 1 for j in users]})",
                )


@conformance_property(
    "04-unshared-layer-grads-match-oracle",
    document=DOCUMENT,
    section=Section.VANILLA,
    title="With distinct random parameters per layer, each of UnsharedTransformer's layers gets the gradient the "
    "float64 oracle of that layer sequence gives it",
    hint="Every layer's parameters must reach the output through the layers after it: no stop_gradient between "
    "layers, no layer whose parameters are read but not used. The oracle is the suite's own Flax construction of "
    "the document's block, run in float64 with the same per-layer parameters.",
    needs=BLOCK + UNSHARED,
)
@dst.at_real_sizes(seed=0, data_seed=0)
@given(case=dst.cases(), seed=cst.seeds(), data_seed=cst.data_seeds())
def test_unshared_layer_grads_match_oracle(impl, case, seed, data_seed):
    c = dst.CASES[case]
    args, stack, params = _stack_case(impl, c, "UnsharedTransformer", None, seed)
    what = calls.describe("UnsharedTransformer", args)
    _assert_sharing(stack, None, what)
    x = cst.normal_array(data_seed, c.x_shape)
    r = cst.normal_array(data_seed + 1, c.x_shape)
    _, grads = calls.out_and_grad(impl, "UnsharedTransformer", args, params, x, r)
    expected, measured = drift.stack_gradients(c.dims, stack.read(params), x, r)
    _assert_layer_grads(stack, grads, expected, measured, c, f"{what} on distinct random params (seed {seed})")


def _twin(impl, c, share: str, seed: int, data_seed: int) -> None:
    """share='ffn' or 'attention' equals the unshared model holding the same pieces: outputs and gradients."""
    args, stack, params = _stack_case(impl, c, "SharedTransformer", share, seed)
    what = calls.describe("SharedTransformer", args, share)
    _assert_sharing(stack, share, what)
    x = cst.normal_array(data_seed, c.x_shape)
    r = cst.normal_array(data_seed + 1, c.x_shape)
    out, grads = calls.out_and_grad(impl, "SharedTransformer", args, params, x, r, share)
    layers = stack.read(params)
    expected, tol = oracles.stack(x, layers, c.num_layers)
    assert_close(out, expected, tol, what=f"{what} on random params (seed {seed}) against the oracle of its layers")
    twin_stack = layout.model_stack(impl, "UnsharedTransformer", args, None, c.x_shape)
    twin_params = twin_stack.write(calls.param_shapes(impl, "UnsharedTransformer", args), layers)
    twin_out, twin_grads = calls.out_and_grad(impl, "UnsharedTransformer", args, twin_params, x, r)
    twin = f"{calls.describe('UnsharedTransformer', args)} holding the same pieces in every layer"
    assert_close(out, twin_out, combined((1.0, tol), (1.0, tol)), what=f"{what} against {twin}")
    _, measured = drift.stack_gradients(c.dims, layers, x, r)
    both = drift.GradientDrift(measured.parts * 2)  # two float32 gradients compared with each other
    _assert_layer_grads(stack, grads, twin_stack.read(twin_grads), both, c, f"{what} against {twin}")


@conformance_property(
    "04-share-ffn-equals-unshared-twin",
    document=DOCUMENT,
    section=Section.SHARED_STRUCTURE,
    title="SharedTransformer(share='ffn') uses one FFN in every layer and its own attention and LayerNorms per layer, "
    "in layout order; it equals UnsharedTransformer with that FFN copied into every layer (outputs, and the shared "
    "FFN's gradient is the sum of the twin's per-layer FFN gradients)",
    hint="FFN-only sharing: create one FFN and pass it to every layer; each layer keeps its own attention and "
    "both LayerNorms, applied in order. The suite reports which pieces it found each layer using.",
    needs=BLOCK + SHARED + UNSHARED,
    modes=("ffn",),
)
@dst.at_real_sizes(seed=0, data_seed=0)
@given(case=dst.cases(), seed=cst.seeds(), data_seed=cst.data_seeds())
def test_share_ffn_equals_unshared_twin(impl, case, seed, data_seed):
    _twin(impl, dst.CASES[case], "ffn", seed, data_seed)


@conformance_property(
    "04-share-attention-equals-unshared-twin",
    document=DOCUMENT,
    section=Section.SHARED_STRUCTURE,
    title="SharedTransformer(share='attention') uses one attention in every layer and its own FFN and LayerNorms per "
    "layer, in layout order; it equals UnsharedTransformer with that attention copied into every layer (outputs, and "
    "the shared attention's gradient is the sum of the twin's per-layer attention gradients)",
    hint="Attention-only sharing: create one attention module and pass it to every layer; each layer keeps its own "
    "FFN and both LayerNorms, applied in order. The suite reports which pieces it found each layer using.",
    needs=BLOCK + SHARED + UNSHARED,
    modes=("attention",),
)
@dst.at_real_sizes(seed=0, data_seed=0)
@given(case=dst.cases(), seed=cst.seeds(), data_seed=cst.data_seeds())
def test_share_attention_equals_unshared_twin(impl, case, seed, data_seed):
    _twin(impl, dst.CASES[case], "attention", seed, data_seed)


KERNELS = ("query", "key", "value", "out", "fc1", "fc2")


@conformance_property(
    "04-layers-drawn-apart-at-init",
    document=DOCUMENT,
    section=Section.VANILLA,
    title="After init, layers that do not share a piece hold different kernels in it: the unshared model's blocks, "
    "and the unshared parts of partial sharing, are drawn with different keys, not copied",
    hint="Let each layer draw its own parameters (Flax gives each named submodule its own RNG stream); do not copy "
    "one layer's parameters into the others or initialise them from one fixed key. LayerNorm scales and biases "
    "start equal by design (ones and zeros) and are not compared.",
    needs=BLOCK + SHARED + UNSHARED,
)
@dst.at_real_sizes(seed=0, model="unshared")
@given(case=dst.cases(min_layers=2), seed=cst.seeds(), model=st.sampled_from(("unshared", "ffn", "attention")))
def test_layers_drawn_apart_at_init(impl, case, seed, model):
    c = dst.CASES[case]
    export, share = ("UnsharedTransformer", None) if model == "unshared" else ("SharedTransformer", model)
    assume(calls.supports(impl, share))
    args = (c.num_layers, *c.dims)
    stack = layout.model_stack(impl, export, args, share, c.x_shape)
    layers = stack.read(calls.init(impl, export, args, seed, share))
    what = f"{calls.describe(export, args, share)}.init(PRNGKey({seed}))"
    for field in KERNELS:
        kind = FIELD_KIND[field]
        for a, b in itertools.combinations(range(len(layers)), 2):
            if stack.layers[a].pieces()[kind] == stack.layers[b].pieces()[kind]:
                continue  # shared by design
            same = np.array_equal(getattr(layers[a], field)[0], getattr(layers[b], field)[0])
            assert not same, (
                f"{what}: layers {a + 1} and {b + 1} hold the same {field} kernel "
                f"({stack.layers[a].pieces()[kind].where} and {stack.layers[b].pieces()[kind].where}): they were "
                f"copied or drawn from one key"
            )
