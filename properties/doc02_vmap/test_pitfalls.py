"""Document 02's other settings of nn.vmap: stacked params, split init keys, in_axes off the batch axis."""

from __future__ import annotations

import functools

import jax
import numpy as np
from flax import linen as nn
from hypothesis import given

from conformance.engine.registry import conformance_property
from conformance.kit import compiled, tolerances
from conformance.kit import strategies as cst
from conformance.kit.assertions import as_output, assert_close, assert_raises, assert_tree_shapes
from conformance.kit.oracles import dense
from conformance.kit.tolerances import Tolerance

from . import DOCUMENT, Section, constructions


@conformance_property(
    "02-fw-stacked-params-row-uses-own-member",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="With params on axis 0 (split keys) the output stays (B, F), row i is x_i K_i + b_i with member i's "
    "params, and the stacked params fit only a batch of B",
    hint="nn.vmap with variable_axes {'params': 0} maps the params' leading axis alongside the input's batch axis.",
)
@given(seed=cst.seeds(), shape=cst.dense_shapes(min_rows=2), data_seed=cst.data_seeds())
def test_fw_stacked_params_row_uses_own_member(seed, shape, data_seed):
    b, in_dim, features = shape
    x = cst.normal_array(data_seed, (b, in_dim))
    ensemble = constructions.vmapped_dense(0, True)
    # The same compiled program as 02-fw-stacked-params-split-rngs-differ: no compilation of its own.
    variables, out = compiled.init_apply(ensemble, jax.random.PRNGKey(seed), x, features=features)
    assert_tree_shapes(
        variables,
        {"params": {"kernel": (b, in_dim, features), "bias": (b, features)}},
        what="vmap with params on axis 0",
    )
    out = as_output(out, what="stacked-params apply", shape=(b, features))
    k, bias = (np.asarray(variables["params"][name]) for name in ("kernel", "bias"))
    # Row i as a one-row input to member i: (B, 1, in) @ (B, in, F), so every row is judged with its own member.
    rows, member_bias = x[:, None, :], bias[:, None, :]
    tol = tolerances.dense_chain(rows, [(k, member_bias)])
    assert_close(
        out,
        dense(rows, k, member_bias).reshape(b, features),
        Tolerance(tol.bound.reshape(b, features), tol.derivation, tol.magnitude),
        what="each row i against x_i K_i + b_i (member i of the stack)",
    )
    _other_batch_refused(b, in_dim, features)


@compiled.once_per_shape
def _other_batch_refused(b: int, in_dim: int, features: int) -> None:
    model = constructions.vmapped_dense(0, True)(features=features)
    variables = compiled.abstract_init(model, (b, in_dim))
    other = jax.ShapeDtypeStruct((b + 1, in_dim), np.float32)
    assert_raises(
        ValueError,
        lambda: jax.eval_shape(model.apply, variables, other),
        what=f"params stacked for a batch of {b} applied to a batch of {b + 1}",
    )


@conformance_property(
    "02-fw-broadcast-params-split-rngs-key-per-example",
    document=DOCUMENT,
    section=Section.INCANTATION,
    title="With params broadcast, split_rngs {'params': True} initialises from one key per example, "
    "not from the shared key",
    hint="If init raises, nn.vmap refuses per-example init keys for broadcast params; the document's "
    "'B different init keys' does not hold for this release.",
)
@given(seed=cst.seeds(), shape=cst.dense_shapes(min_rows=2))
def test_fw_broadcast_params_split_rngs_key_per_example(seed, shape):
    b, in_dim, features = shape
    try:
        variables, _ = compiled.init_apply(
            constructions.vmapped_dense(None, True),
            jax.random.PRNGKey(seed),
            np.zeros((b, in_dim), np.float32),
            features=features,
        )
    except ValueError as exc:
        raise AssertionError(
            f"init with params broadcast and split_rngs {{'params': True}} on a batch of {b} raised "
            f"ValueError: {str(exc)[:200]}; no example got a key of its own"
        ) from None
    shared = constructions.dense_params(seed, in_dim, features)["kernel"]
    if np.array_equal(np.asarray(variables["params"]["kernel"]), shared):
        raise AssertionError(
            "with split_rngs {'params': True} the broadcast kernel equals the one nn.Dense draws "
            "from the shared key: the key was not split per example"
        )


@functools.cache
def _in_axes_models(features: int):
    """nn.vmap over nn.Dense mapping axis 1 (where the batch is), and axis 0 (the document's in_axes)."""
    on_axis_1 = nn.vmap(nn.Dense, in_axes=1, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False})(
        features
    )
    return on_axis_1, constructions.vmapped_dense(None, False)(features)


@compiled.once_per_shape
def _in_axes_structure(b: int, in_dim: int, features: int):
    shapes = [compiled.abstract_init(model, (in_dim, b)) for model in _in_axes_models(features)]
    for name, variables, contracted in (("in_axes=1", shapes[0], in_dim), ("in_axes=0", shapes[1], b)):
        assert_tree_shapes(
            variables,
            {"params": {"kernel": (contracted, features), "bias": (features,)}},
            what=f"{name} on an ({in_dim}, {b}) input",
        )
    return shapes


@functools.cache
def _in_axes_program(features: int):
    models = _in_axes_models(features)
    return compiled.fast_jit(lambda params, x: [model.apply(v, x) for model, v in zip(models, params)])


@conformance_property(
    "02-fw-in-axes-selects-batch-axis",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="in_axes picks the axis nn.vmap iterates: with the batch on axis 1, in_axes=1 maps the examples, "
    "in_axes=0 maps the features and contracts the batch",
    hint="nn.vmap must slice the input along in_axes, whatever the layer would accept.",
)
@given(shape=cst.dense_shapes(min_rows=2), data_seed=cst.data_seeds())
def test_fw_in_axes_selects_batch_axis(shape, data_seed):
    b, in_dim, features = shape
    right, wrong = (cst.normal_tree(data_seed + i, s) for i, s in enumerate(_in_axes_structure(b, in_dim, features)))
    x = cst.normal_array(data_seed + 2, (in_dim, b))  # the batch on axis 1
    out_right, out_wrong = _in_axes_program(features)([right, wrong], x)
    k, bias = right["params"]["kernel"], right["params"]["bias"]
    assert_close(
        as_output(out_right, what="in_axes=1", shape=(b, features)),
        dense(x.T, k, bias),
        tolerances.dense_chain(x.T, [(k, bias)]),
        what="in_axes=1: row i against x[:, i] K + b",
    )
    k, bias = wrong["params"]["kernel"], wrong["params"]["bias"]
    assert_close(
        as_output(out_wrong, what="in_axes=0", shape=(in_dim, features)),
        dense(x, k, bias),
        tolerances.dense_chain(x, [(k, bias)]),
        what="in_axes=0: row j (feature j across the batch) against x[j, :] K + b",
    )
