"""Document 02: nn.vmap with params broadcast over the batch (one kernel for every row)."""

from __future__ import annotations

import functools

import jax
import numpy as np
from flax import linen as nn
from hypothesis import given
from hypothesis import strategies as st

from conformance.engine.registry import conformance_property
from conformance.kit import compiled, forward, oracles, tolerances
from conformance.kit import strategies as cst
from conformance.kit.assertions import (
    as_output,
    assert_close,
    assert_equal_arrays,
    assert_tree_shapes,
    dig,
    tree_shapes,
)
from conformance.kit.pairs import equal_pairs

from . import DOCUMENT, Section, constructions


def _init_apply(impl, features, x, seed):
    with impl.running("VmappedDense(features=F).init/apply"):
        return compiled.init_apply(impl.get("VmappedDense"), jax.random.PRNGKey(seed), x, features=features)


def _forward(impl, seed, x, features, as_float=False):
    return forward.call(impl, "nn_vmap_forward", seed, x, features, shape=(x.shape[0] * features,), as_float=as_float)


def _params(variables):
    k = np.asarray(dig(variables, "params", "kernel", what="VmappedDense params"))
    b = np.asarray(dig(variables, "params", "bias", what="VmappedDense params"))
    return k, b


# --- the module --------------------------------------------------------------


@conformance_property(
    "02-params-no-batch-axis",
    document=DOCUMENT,
    section=Section.SHAPES,
    title="VmappedDense params have no batch axis: kernel (in, F) and bias (F,)",
    hint="variable_axes={'params': None} broadcasts params; 0 stacks one copy per batch row.",
    needs=("VmappedDense",),
)
@given(shape=cst.dense_shapes(structural=True))
def test_params_no_batch_axis(impl, shape):
    b, in_dim, features = shape
    with impl.running("VmappedDense.init"):
        shapes = compiled.abstract_init(impl.get("VmappedDense")(features=features), (b, in_dim))
    assert_tree_shapes(
        shapes,
        {"params": {"kernel": (in_dim, features), "bias": (features,)}},
        what=f"VmappedDense(features={features}).init on ({b}, {in_dim})",
    )


@conformance_property(
    "02-params-independent-of-batch",
    document=DOCUMENT,
    section=Section.INCANTATION,
    title="For a fixed seed, VmappedDense's params do not depend on the batch size and equal nn.Dense's",
    hint="split_rngs={'params': False} gives every row the same init key, so the batch size cannot matter.",
    needs=("VmappedDense",),
)
@given(seed=cst.seeds(), shape=cst.dense_shapes(), data_seed=cst.data_seeds())
def test_params_independent_of_batch(impl, seed, shape, data_seed):
    b, in_dim, features = shape
    x = cst.normal_array(data_seed, (b, in_dim))
    variables, _ = _init_apply(impl, features, x, seed)
    k, bias = _params(variables)
    expected = constructions.dense_params(seed, in_dim, features)
    assert_equal_arrays(k, expected["kernel"], what=f"kernel with batch {b} against nn.Dense init with the same key")
    assert_equal_arrays(bias, expected["bias"], what=f"bias with batch {b} against nn.Dense init with the same key")


@conformance_property(
    "02-module-equals-plain-dense",
    document=DOCUMENT,
    section=Section.WHY_NN_VMAP,
    title="VmappedDense applies x K + b to every row, as a plain nn.Dense with the same params does",
    hint="in_axes=0 and out_axes=0: the batch is the leading axis of both input and output.",
    needs=("VmappedDense",),
)
@given(seed=cst.seeds(), shape=cst.dense_shapes(), data_seed=cst.data_seeds())
def test_module_equals_plain_dense(impl, seed, shape, data_seed):
    b, in_dim, features = shape
    x = cst.normal_array(data_seed, (b, in_dim))
    variables, out = _init_apply(impl, features, x, seed)
    out = as_output(out, what="VmappedDense.apply", shape=(b, features))
    k, bias = _params(variables)
    assert_close(
        out,
        oracles.dense(x, k, bias),
        tolerances.dense_chain(x, [(k, bias)]),
        what="VmappedDense.apply against x @ kernel + bias",
    )
    plain = np.asarray(compiled.apply(nn.Dense, {"params": {"kernel": k, "bias": bias}}, x, features=features))
    assert_close(
        out,
        plain,
        tolerances.combined(
            (1.0, tolerances.dense_chain(x, [(k, bias)])), (1.0, tolerances.dense_chain(x, [(k, bias)]))
        ),
        what="VmappedDense.apply against nn.Dense.apply with the same params",
    )


@conformance_property(
    "02-module-rows-are-single-applies",
    document=DOCUMENT,
    section=Section.SHAPES,
    title="Each output row of VmappedDense equals applying it to that example alone",
    hint="Params broadcast, batch on axis 0: row i of the output may depend on row i of the input only.",
    needs=("VmappedDense",),
)
@given(seed=cst.seeds(), shape=cst.dense_shapes(min_rows=2), data_seed=cst.data_seeds())
def test_module_rows_are_single_applies(impl, seed, shape, data_seed):
    b, in_dim, features = shape
    x = cst.normal_array(data_seed, (b, in_dim))
    variables, out = _init_apply(impl, features, x, seed)
    out = as_output(out, what="VmappedDense.apply", shape=(b, features))
    k, bias = _params(variables)
    i = int(cst.permutation(data_seed, b)[0])
    with impl.running("VmappedDense.apply on one row"):
        single = compiled.apply(impl.get("VmappedDense"), variables, x[i : i + 1], features=features)
    single = as_output(single, what="VmappedDense.apply on one row", shape=(1, features))
    row_tol = tolerances.dense_chain(x[i : i + 1], [(k, bias)])
    assert_close(
        single,
        out[i : i + 1],
        tolerances.combined((1.0, row_tol), (1.0, row_tol)),
        what=f"row {i} applied alone against row {i} of the batch",
    )


@conformance_property(
    "02-module-maps-over-leading-axis",
    document=DOCUMENT,
    section=Section.INCANTATION,
    title="VmappedDense is nn.Dense lifted by nn.vmap over axis 0: a 1-D input is a batch of scalars, which it "
    "refuses, where a plain nn.Dense would return (F,)",
    hint="Build VmappedDense with nn.vmap(nn.Dense, in_axes=0, ...); a plain nn.Dense (or a subclass) gives the "
    "same outputs on (B, in) batches but is not the lifted module.",
    needs=("VmappedDense",),
)
@given(shape=cst.dense_shapes())  # the refusal cannot depend on the sizes: the run's few shapes will do
def test_module_maps_over_leading_axis(impl, shape):
    _, in_dim, features = shape
    with impl.running("VmappedDense(features=F)"):
        model = impl.get("VmappedDense")(features=features)
    key = jax.ShapeDtypeStruct((2,), np.uint32)
    try:  # traced only: nothing compiles
        out, variables = jax.eval_shape(model.init_with_output, key, jax.ShapeDtypeStruct((in_dim,), np.float32))
    except Exception:
        return
    raise AssertionError(
        f"VmappedDense(features={features}) took a 1-D input of shape ({in_dim},) as one example and returned "
        f"{tuple(out.shape)} with params {tree_shapes(variables['params'])}, as a plain nn.Dense does: mapped over "
        f"axis 0, each example would be a scalar, which nn.Dense cannot take"
    )


# --- the forward function ------------------------------------------------------


@conformance_property(
    "02-forward-matches-construction",
    document=DOCUMENT,
    section=Section.PROBLEM,
    title="nn_vmap_forward(seed, x, F) equals nn.Dense(F) initialised with PRNGKey(seed), applied row-wise and flattened",
    hint="Init with jax.random.PRNGKey(int(seed)) on x_batch; return out.reshape(-1) (row-major).",
    needs=("nn_vmap_forward",),
)
@given(seed=cst.seeds(), shape=cst.dense_shapes(), data_seed=cst.data_seeds(), as_float=st.booleans())
def test_forward_matches_construction(impl, seed, shape, data_seed, as_float):
    b, in_dim, features = shape
    x = cst.normal_array(data_seed, (b, in_dim))
    out = _forward(impl, seed, x, features, as_float)
    p = constructions.dense_params(seed, in_dim, features)
    assert_close(
        out,
        oracles.dense(x, p["kernel"], p["bias"]).reshape(-1),
        tolerances.dense_chain(x, [(p["kernel"], p["bias"])]),
        what="nn_vmap_forward",
    )


@conformance_property(
    "02-forward-batch-prefix-and-permutation",
    document=DOCUMENT,
    section=Section.PROBLEM,
    title="nn_vmap_forward on a prefix or a permutation of the batch gives that prefix or permutation of the row blocks",
    hint="Params must not depend on the batch (split_rngs False, no batch axis) and the output is flattened row-major.",
    needs=("nn_vmap_forward",),
)
@given(seed=cst.seeds(), shape=cst.dense_shapes(min_rows=2), data_seed=cst.data_seeds())
def test_forward_batch_prefix_and_permutation(impl, seed, shape, data_seed):
    b, in_dim, features = shape
    x = cst.normal_array(data_seed, (b, in_dim))
    full = _forward(impl, seed, x, features).reshape(b, features)
    p = constructions.dense_params(seed, in_dim, features)
    tol = tolerances.dense_chain(x, [(p["kernel"], p["bias"])])
    perm = cst.permutation(data_seed, b)
    permuted = _forward(impl, seed, x[perm], features).reshape(b, features)
    assert_close(
        permuted,
        full[perm],
        tolerances.combined((1.0, tol.rows(perm)), (1.0, tol)),
        what=f"output after permuting the batch by {perm.tolist()}",
    )
    prefix = _forward(impl, seed, x[:1], features).reshape(1, features)
    assert_close(
        prefix,
        full[:1],
        tolerances.combined((1.0, tol.rows(slice(0, 1))), (1.0, tol.rows(slice(0, 1)))),
        what="output for the first row alone against the first row block",
    )


# --- what Flax does --------------------------------------------------------------


@conformance_property(
    "02-fw-stacked-params-split-rngs-differ",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="variable_axes {'params': 0} with split_rngs True gives B stacked kernels (B, in, F), pairwise different",
    hint="Flax's lifted vmap semantics for variable_axes/split_rngs changed; see flax.linen.vmap's docs.",
)
@given(seed=cst.seeds(), shape=cst.dense_shapes(min_rows=2))
def test_fw_stacked_params_split_rngs_differ(seed, shape):
    b, in_dim, features = shape
    variables, _ = compiled.init_apply(
        constructions.vmapped_dense(0, True),
        jax.random.PRNGKey(seed),
        np.zeros((b, in_dim), np.float32),
        features=features,
    )
    params = variables["params"]
    assert_tree_shapes(
        params, {"kernel": (b, in_dim, features), "bias": (b, features)}, what="vmap with params on axis 0"
    )
    k = np.asarray(params["kernel"])
    same = equal_pairs(k)
    assert not same, f"split_rngs=True gave identical kernels for batch rows {same}"


@conformance_property(
    "02-fw-stacked-params-shared-rng-identical",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="variable_axes {'params': 0} with split_rngs False gives B stacked, identical copies of one kernel",
    hint="With one init key per row, every stacked copy is initialised the same.",
)
@given(seed=cst.seeds(), shape=cst.dense_shapes(min_rows=2))
def test_fw_stacked_params_shared_rng_identical(seed, shape):
    b, in_dim, features = shape
    variables, _ = compiled.init_apply(
        constructions.vmapped_dense(0, False),
        jax.random.PRNGKey(seed),
        np.zeros((b, in_dim), np.float32),
        features=features,
    )
    params = variables["params"]
    assert_tree_shapes(
        params, {"kernel": (b, in_dim, features), "bias": (b, features)}, what="vmap with params on axis 0"
    )
    k = np.asarray(params["kernel"])
    for i in range(1, b):
        assert_equal_arrays(k[i], k[0], what=f"stacked kernel copy {i} against copy 0")


@functools.cache
def _lifted_and_plain(features: int):
    """Init and apply of the broadcast nn.vmap and of plain nn.Dense, in one compiled call per shape."""
    lifted, plain = constructions.vmapped_dense(None, False)(features=features), nn.Dense(features)

    def run(key, x):
        lifted_vars, plain_vars = lifted.init(key, x), plain.init(key, x)
        return lifted_vars, lifted.apply(lifted_vars, x), plain_vars, plain.apply(plain_vars, x)

    return jax.jit(run)  # params are compared bit for bit: default options


@conformance_property(
    "02-fw-broadcast-equals-plain-dense",
    document=DOCUMENT,
    section=Section.WHY_NN_VMAP,
    title="nn.vmap over nn.Dense with broadcast params initialises and applies exactly like nn.Dense on the batch",
    hint="The broadcast init key path may have changed; compare the lifted and the plain param trees.",
)
@given(seed=cst.seeds(), shape=cst.dense_shapes(), data_seed=cst.data_seeds())
def test_fw_broadcast_equals_plain_dense(seed, shape, data_seed):
    b, in_dim, features = shape
    x = cst.normal_array(data_seed, (b, in_dim))
    variables, lifted_out, plain, plain_out = _lifted_and_plain(features)(jax.random.PRNGKey(seed), x)
    for leaf in ("kernel", "bias"):
        assert_equal_arrays(
            variables["params"][leaf], plain["params"][leaf], what=f"lifted {leaf} against plain {leaf}"
        )
    k, bias = np.asarray(plain["params"]["kernel"]), np.asarray(plain["params"]["bias"])
    tol = tolerances.dense_chain(x, [(k, bias)])
    assert_close(
        lifted_out, plain_out, tolerances.combined((1.0, tol), (1.0, tol)), what="lifted apply against plain apply"
    )
