"""Document 04, sharing: share='all' is one block applied L times, and its gradient sums the layers'."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
from hypothesis import assume, given

from conformance.engine.registry import conformance_property
from conformance.kit import strategies as cst
from conformance.kit import trees
from conformance.kit.assertions import as_output, assert_close
from conformance.kit.tolerances import combined

from . import DOCUMENT, Section, calls, layout, reading
from . import strategies as dst
from .calls import BLOCK, SHARED, UNSHARED
from .numerics import drift, oracles

# --- sharing (2. Shared-Parameter Transformer Structure) -------------------------------------


def _layer_slots(tree, block_shapes, expected: int, where: str, allow_stacked: bool) -> list:
    """Where the ``expected`` block-shaped layers of ``tree`` sit; together they hold every leaf."""
    slots = reading.find_layers(tree, block_shapes)
    per_block, total = trees.count_parameters(block_shapes)[0], trees.count_parameters(tree)[0]
    stacked = [s for s in slots if s[1] is not None]
    if len(slots) != expected or expected * per_block != total or (stacked and not allow_stacked):
        kind = "subtree(s) with the keys and shapes of TransformerBlock's params" + (
            " (or stacked along axis 0)" if allow_stacked else ""
        )
        raise AssertionError(
            f"{where}: expected exactly {expected} {kind} holding all {total:,} parameters; found {len(slots)} "
            f"({sorted({p for p, _ in slots})[:4]}{', stacked' if stacked else ''}), {per_block:,} parameters per block"
        )
    return slots


@dataclass(frozen=True)
class Model:
    """A model's constructor arguments, its parameters, and where its block-shaped layers sit."""

    args: tuple
    params: Any
    slots: list

    def block(self) -> Any:
        """The first layer's params (the shared model's only block)."""
        return reading.get_layer(self.params, self.slots[0])


def _shared_model(impl, c, seed: int) -> Model:
    """SharedTransformer(share='all') with random params, and the slot of its one block."""
    args = (c.num_layers, *c.dims)
    shared_shapes = calls.param_shapes(impl, "SharedTransformer", args, "all")
    block_shapes = calls.param_shapes(impl, "TransformerBlock", c.dims)
    slots = _layer_slots(shared_shapes, block_shapes, 1, calls.describe("SharedTransformer", args, "all"), False)
    return Model(args, cst.random_params(shared_shapes, seed), slots)


@conformance_property(
    "04-shared-all-is-block-applied-l-times",
    document=DOCUMENT,
    section=Section.ARCHITECTURE,
    title="SharedTransformer(share='all') holds one block-shaped subtree and equals TransformerBlock applied L times with it",
    hint="h_l = Block_shared(h_{l-1}) for l = 1..L with the same weights at every layer: call one block L times "
    "(or nn.scan with variable_broadcast='params'); no extra layer, no skipped layer, nothing between blocks. "
    "Section 2 writes h_l = h_{l-1} + Block(h_{l-1}), but the document's code (followed here) keeps the "
    "residual inside the block; an extra outer residual fails this.",
    needs=BLOCK + SHARED,
    modes=("all",),
)
@dst.at_real_sizes(seed=0, data_seed=0, scale=1.0)
@given(case=dst.cases(), seed=cst.seeds(), data_seed=cst.data_seeds(), scale=dst.input_scales())
def test_shared_all_is_block_applied_l_times(impl, case, seed, data_seed, scale):
    c = dst.CASES[case]
    x = cst.normal_array(data_seed, c.x_shape, scale)
    model = _shared_model(impl, c, seed)
    block_params = model.block()
    # out_and_grad, not apply: the program 04-unshared-with-copied-block-equals-shared compiles anyway.
    shared, _ = calls.out_and_grad(impl, "SharedTransformer", model.args, model.params, x, x, "all")
    h = x
    for _ in range(c.num_layers):
        h = calls.apply(impl, "TransformerBlock", c.dims, block_params, h)
    tol = oracles.closest_layout(
        x, shared, layout.block_roles(impl, c.dims).readings(block_params), c.num_layers
    ).tolerance
    assert_close(
        shared,
        h,
        combined((1.0, tol), (1.0, tol)),
        what=f"{calls.describe('SharedTransformer', model.args, 'all')} against its block applied {c.num_layers} times",
    )


def _unshared_copy(impl, c, block_params) -> Model:
    """UnsharedTransformer with ``block_params`` in every layer."""
    args = (c.num_layers, *c.dims)
    shapes = calls.param_shapes(impl, "UnsharedTransformer", args)
    block_shapes = calls.param_shapes(impl, "TransformerBlock", c.dims)
    slots = _layer_slots(shapes, block_shapes, c.num_layers, calls.describe("UnsharedTransformer", args), True)
    return Model(args, reading.place_layers(shapes, slots, block_params), slots)


@conformance_property(
    "04-unshared-with-copied-block-equals-shared",
    document=DOCUMENT,
    section=Section.ARCHITECTURE,
    title="UnsharedTransformer with the shared block's params copied into each of its L layers gives the shared model's output",
    hint="Both models must run the same block L times; they may differ only in where the parameters live.",
    needs=BLOCK + SHARED + UNSHARED,
    modes=("all",),
)
@dst.at_real_sizes(seed=0, data_seed=0)
@given(case=dst.cases(min_layers=2), seed=cst.seeds(), data_seed=cst.data_seeds())
def test_unshared_with_copied_block_equals_shared(impl, case, seed, data_seed):
    c = dst.CASES[case]
    x = cst.normal_array(data_seed, c.x_shape)
    r = cst.normal_array(data_seed + 1, c.x_shape)
    shared_model = _shared_model(impl, c, seed)
    block_params = shared_model.block()
    unshared_model = _unshared_copy(impl, c, block_params)
    shared, _ = calls.out_and_grad(impl, "SharedTransformer", shared_model.args, shared_model.params, x, r, "all")
    unshared, _ = calls.out_and_grad(impl, "UnsharedTransformer", unshared_model.args, unshared_model.params, x, r)
    tol = oracles.closest_layout(
        x, shared, layout.block_roles(impl, c.dims).readings(block_params), c.num_layers
    ).tolerance
    assert_close(
        unshared,
        shared,
        combined((1.0, tol), (1.0, tol)),
        what=f"{calls.describe('UnsharedTransformer', unshared_model.args)} with the shared block in every layer, against the shared model",
    )


def _gradient_drift(impl, c, block_params, x, r, shared_out) -> drift.GradientDrift | None:
    """The float32 gradient drift of the suite's construction holding the block's params, read as the
    oracle reads them (of several readings, the one whose output is nearest the shared model's)."""
    try:
        readings = layout.block_roles(impl, c.dims).readings(block_params)
    except (reading.LayoutUnreadable, AssertionError):
        return None  # the layout and block properties report why; this claim keeps the worst-case bound
    values = readings[0] if len(readings) == 1 else oracles.closest_layout(x, shared_out, readings, c.num_layers).params
    return drift.gradient_drift(c.num_layers, c.dims, values, x, r)


@conformance_property(
    "04-shared-grad-is-sum-of-layer-grads",
    document=DOCUMENT,
    section=Section.ARCHITECTURE,
    title="The gradient of the shared block's params is the sum over layers of the unshared model's per-layer gradients (same params in every layer)",
    hint="Every application of the shared block must feed its gradient back to the one set of params: no "
    "stop_gradient, no detached copy, no per-layer params that are merely initialised equal.",
    needs=BLOCK + SHARED + UNSHARED,
    modes=("all",),
)
@dst.at_real_sizes(seed=0, data_seed=0)
@given(case=dst.cases(min_layers=2), seed=cst.seeds(), data_seed=cst.data_seeds())
def test_shared_grad_is_sum_of_layer_grads(impl, case, seed, data_seed):
    c = dst.CASES[case]
    shared_model = _shared_model(impl, c, seed)
    unshared_model = _unshared_copy(impl, c, shared_model.block())
    drawn = _decidable_gradients(impl, c, shared_model, unshared_model, data_seed)
    assume(drawn is not None)  # no draw of DRAWS judgeable; rare, and counted as a rejection, not a pass
    g_shared, total, magnitude, measured = drawn
    leaves_s, _ = jax.tree_util.tree_flatten_with_path(g_shared)
    leaves_t = jax.tree_util.tree_leaves(total)
    for (key_path, got), want in zip(leaves_s, leaves_t):
        name = jax.tree_util.keystr(key_path)
        got = as_output(got, what=f"gradient {name}", shape=np.shape(want))
        assert_close(
            got,
            want,
            oracles.gradient_tolerance(c.num_layers, c.longest_contraction, np.shape(want), magnitude, measured),
            scale=magnitude,
            what=f"gradient of the shared block's {name} (expected the sum over {c.num_layers} layers)",
        )


# Inputs (x, cotangent) tried per example. The float32 gradient of a LayerNorm row of small variance is
# ill-conditioned: at d_model 3 one input made the suite's own construction drift 2.4e-4 of the gradients' scale,
# so the tolerance (16x that) allowed 3.8e-3 of it, room a wrong model could use. Such an input cannot be judged
# to :data:`JUDGEABLE` of the scale, and the property draws the next one, as document 01's do near relu's kink.
DRAWS = 8
JUDGEABLE = 1e-3


def _decidable_gradients(impl, c, shared_model, unshared_model, data_seed):
    """For the first of :data:`DRAWS` inputs whose measured tolerance is within :data:`JUDGEABLE` of the
    gradients' scale: the shared model's block gradient, the unshared model's per-layer gradients summed,
    their scale, and the measured drift (None if no draw is judgeable)."""
    for i in range(DRAWS):
        x = cst.normal_array(data_seed + 2 * i, c.x_shape)
        r = cst.normal_array(data_seed + 2 * i + 1, c.x_shape)
        shared_out, shared_grads = calls.out_and_grad(
            impl, "SharedTransformer", shared_model.args, shared_model.params, x, r, "all"
        )
        _, unshared_grads = calls.out_and_grad(
            impl, "UnsharedTransformer", unshared_model.args, unshared_model.params, x, r
        )
        layers = [reading.get_layer(unshared_grads, s) for s in unshared_model.slots]
        total = jax.tree_util.tree_map(lambda *gs: np.sum([np.asarray(g, np.float64) for g in gs], axis=0), *layers)
        magnitude = max(
            float(np.sum([np.abs(np.asarray(g, np.float64)) for g in gs], axis=0).max(initial=0.0))
            for gs in zip(*(jax.tree_util.tree_leaves(layer) for layer in layers))
        )
        measured = _gradient_drift(impl, c, shared_model.block(), x, r, shared_out)
        if measured is None or measured.bound(magnitude) <= JUDGEABLE * magnitude:
            g_shared = reading.get_layer(shared_grads, shared_model.slots[0])
            return g_shared, total, magnitude, measured
    return None
