"""Document 02, 'Why bother with nn.vmap over plain jax.vmap?': what the lifted transform does beyond nn.Dense."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from hypothesis import given

from conformance.engine.registry import conformance_property
from conformance.kit import compiled, tolerances
from conformance.kit import strategies as cst
from conformance.kit.assertions import as_output, assert_close, assert_raises, assert_tree_shapes
from conformance.kit.oracles import dense
from conformance.kit.pairs import equal_pairs

from . import DOCUMENT, Section, oracles


def _layer(in_dim: int, features: int) -> dict:
    return {"kernel": (in_dim, features), "bias": (features,)}


def _run(what: str, fn, *args):
    """Call a compiled program of the property; Flax refusing the lifted module is the claim failing."""
    try:
        return fn(*args)
    except Exception as exc:
        raise AssertionError(f"{what} raised {type(exc).__name__}: {str(exc)[:300]}") from None


# --- a module that takes one example at a time ------------------------------------------


class _OneExampleCell(nn.Module):
    """A recurrent cell written for one example, h' = tanh(x K + b + h): h and x must be 1-D."""

    features: int

    @nn.compact
    def __call__(self, h, x):
        if h.ndim != 1 or x.ndim != 1:
            raise ValueError(f"the cell takes one example (1-D h and x), got {h.shape} and {x.shape}")
        return jnp.tanh(nn.Dense(self.features, name="input")(x) + h)


@functools.cache
def _lifted_cell():
    return nn.vmap(_OneExampleCell, in_axes=0, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False})


@compiled.once_per_shape
def _lifted_cell_structure(b: int, in_dim: int, features: int):
    shapes = _run(
        f"the lifted cell's init on a batch of {b}",
        compiled.abstract_init,
        _lifted_cell()(features),
        (b, features),
        (b, in_dim),
    )
    assert_tree_shapes(
        shapes, {"params": {"input": _layer(in_dim, features)}}, what="params of the lifted cell (no batch axis)"
    )
    return shapes


@functools.cache
def _cell_program(features: int):
    return compiled.fast_jit(_lifted_cell()(features).apply)


@compiled.once_per_shape
def _cell_refuses_batch(b: int, in_dim: int, features: int) -> None:
    assert_raises(
        ValueError,
        lambda: compiled.abstract_init(_OneExampleCell(features), (b, features), (b, in_dim)),
        what=f"the cell alone on a batch of {b}",
    )


@conformance_property(
    "02-fw-vmap-lifts-one-example-cell",
    document=DOCUMENT,
    section=Section.WHY_NN_VMAP,
    title="nn.vmap turns a cell that only takes 1-D input into a Module class that runs on a (B, ...) batch, "
    "params shared, row i equal to the cell on example i",
    hint="nn.vmap must return a new Module class whose init/apply map the target over axis 0.",
)
@given(shape=cst.dense_shapes(min_rows=2), data_seed=cst.data_seeds())
def test_fw_vmap_lifts_one_example_cell(shape, data_seed):
    b, in_dim, features = shape
    lifted = _lifted_cell()
    assert isinstance(lifted, type) and issubclass(lifted, nn.Module) and lifted is not _OneExampleCell, (
        f"nn.vmap(cell, ...) returned {lifted!r}, expected a new Module class"
    )
    _cell_refuses_batch(b, in_dim, features)
    variables = cst.normal_tree(data_seed, _lifted_cell_structure(b, in_dim, features))
    data = cst.normal_array(data_seed + 1, (b, features + in_dim))
    h, x = data[:, :features], data[:, features:]
    out = _run(f"the lifted cell on a batch of {b}", _cell_program(features), variables, h, x)
    expected, tol = oracles.cell(h, x, variables["params"])
    assert_close(
        as_output(out, what="lifted cell", shape=(b, features)),
        expected,
        tol,
        what="lifted cell against the cell applied to each example with the shared params",
    )


# --- batch_stats: per example, or shared over the batch ----------------------------

# Each example is a few rows of d features: BatchNorm averages over the rows.
_ROWS_PER_EXAMPLE = 3


class _Normalize(nn.Module):
    axis_name: str | None = None

    @nn.compact
    def __call__(self, x):
        return nn.BatchNorm(use_running_average=False, axis_name=self.axis_name)(x)


@functools.cache
def _batch_stats_models():
    """BatchNorm under nn.vmap: running stats on axis 0 (one per example), and broadcast with an axis_name."""
    common = dict(in_axes=0, out_axes=0, split_rngs={"params": False})
    per_example = nn.vmap(_Normalize, variable_axes={"params": None, "batch_stats": 0}, **common)()
    shared = nn.vmap(_Normalize, variable_axes={"params": None, "batch_stats": None}, axis_name="batch", **common)(
        axis_name="batch"
    )
    return per_example, shared


@compiled.once_per_shape
def _batch_stats_structure(b: int, d: int) -> None:
    for model, stats_shape, name in zip(_batch_stats_models(), ((b, d), (d,)), ("on axis 0", "broadcast")):
        shapes = _run(
            f"init of nn.vmap over BatchNorm with batch_stats {name}",
            compiled.abstract_init,
            model,
            (b, _ROWS_PER_EXAMPLE, d),
        )
        stats = {"mean": stats_shape, "var": stats_shape}
        assert_tree_shapes(
            shapes,
            {"params": {"BatchNorm_0": {"scale": (d,), "bias": (d,)}}, "batch_stats": {"BatchNorm_0": stats}},
            what=f"variables with batch_stats {name}",
        )


@functools.cache
def _batch_stats_program():
    models = _batch_stats_models()

    def run(x):
        updated = []
        for model in models:  # BatchNorm's init draws no random numbers: any key will do
            variables = model.init(jax.random.PRNGKey(0), x)
            updated.append(model.apply(variables, x, mutable=["batch_stats"])[1])
        return updated

    return compiled.fast_jit(run)


@conformance_property(
    "02-fw-vmap-batch-stats-per-example-or-shared",
    document=DOCUMENT,
    section=Section.WHY_NN_VMAP,
    title="nn.vmap handles batch_stats as asked: on axis 0 each example keeps its own running mean (B, d), "
    "broadcast with an axis_name one (d,) mean over the whole batch; params stay (d,)",
    hint="variable_axes applies to every collection, not only 'params'; BatchNorm's axis_name averages over "
    "the vmapped axis.",
)
@given(shape=cst.dense_shapes(min_rows=2), data_seed=cst.data_seeds())
def test_fw_vmap_batch_stats_per_example_or_shared(shape, data_seed):
    b, d, _ = shape
    _batch_stats_structure(b, d)
    x = cst.normal_array(data_seed, (b, _ROWS_PER_EXAMPLE, d))
    results = _run("nn.vmap over BatchNorm", _batch_stats_program(), x)
    for updated, stats_shape, name in zip(results, ((b, d), (d,)), ("on axis 0", "broadcast")):
        assert_tree_shapes(
            updated,
            {"batch_stats": {"BatchNorm_0": {"mean": stats_shape, "var": stats_shape}}},
            what=f"batch_stats {name} after one apply",
        )
    expected, tol = oracles.running_mean(x)
    assert_close(
        results[0]["batch_stats"]["BatchNorm_0"]["mean"],
        expected,
        tol,
        what="running means (batch_stats on axis 0) against each example's own mean, row i for example i",
    )
    expected, tol = oracles.running_mean(x.reshape(b * _ROWS_PER_EXAMPLE, d))
    assert_close(
        results[1]["batch_stats"]["BatchNorm_0"]["mean"],
        expected,
        tol,
        what=f"shared running mean (batch_stats broadcast) against the mean over all {b} examples",
    )


# --- dropout split per example, params shared --------------------------------------

_DROPOUT_FEATURES = 32  # two rows share a mask with probability 2**-32


class _DenseDropout(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x):
        return nn.Dropout(rate=0.5, deterministic=False)(nn.Dense(self.features)(x))


@functools.cache
def _dropout_model():
    return nn.vmap(
        _DenseDropout,
        in_axes=0,
        out_axes=0,
        variable_axes={"params": None},
        split_rngs={"params": False, "dropout": True},
    )(_DROPOUT_FEATURES)


@compiled.once_per_shape
def _dropout_structure(b: int, in_dim: int):
    model, key = _dropout_model(), jax.ShapeDtypeStruct((2,), jnp.uint32)
    init = lambda k, x: model.init({"params": k, "dropout": k}, x)  # noqa: E731 - Dropout runs at init too
    shapes = jax.eval_shape(init, key, jax.ShapeDtypeStruct((b, in_dim), jnp.float32))
    assert_tree_shapes(
        shapes,
        {"params": {"Dense_0": _layer(in_dim, _DROPOUT_FEATURES)}},
        what="params of nn.vmap over Dense + Dropout (params broadcast)",
    )
    return shapes


@functools.cache
def _dropout_program():
    model = _dropout_model()
    return compiled.fast_jit(lambda variables, x, key: model.apply(variables, x, rngs={"dropout": key}))


@conformance_property(
    "02-fw-vmap-splits-dropout-keeps-params",
    document=DOCUMENT,
    section=Section.WHY_NN_VMAP,
    title="One nn.vmap can share the params and split the dropout RNG: params (in, F), and identical examples "
    "get different dropout masks",
    hint="split_rngs applies to each RNG stream by name; 'dropout': True must hand each example its own key.",
)
@given(dropout_seed=cst.seeds(), shape=cst.dense_shapes(min_rows=2), data_seed=cst.data_seeds())
def test_fw_vmap_splits_dropout_keeps_params(dropout_seed, shape, data_seed):
    b, in_dim, _ = shape
    variables = cst.normal_tree(data_seed, _dropout_structure(b, in_dim))
    x = np.repeat(cst.normal_array(data_seed + 1, (1, in_dim)), b, axis=0)  # every example the same
    out = _run("nn.vmap over Dense + Dropout", _dropout_program(), variables, x, jax.random.PRNGKey(dropout_seed))
    out = as_output(out, what="Dense + Dropout", shape=(b, _DROPOUT_FEATURES))
    k, bias = variables["params"]["Dense_0"]["kernel"], variables["params"]["Dense_0"]["bias"]
    kept = out != 0
    assert_close(
        out,
        np.where(kept, 2.0 * dense(x, k, bias), 0.0),
        tolerances.combined((2.0, tolerances.dense_chain(x, [(k, bias)]))),
        what="kept outputs against (x K + b) / (1 - rate), the same params for every example",
    )
    same = equal_pairs(kept)
    if same:
        raise AssertionError(
            f"with split_rngs dropout=True, identical examples {same} got the same dropout mask "
            f"{kept[same[0][0]].astype(int)}"
        )


# --- a single nn.Dense needs no vmap -----------------------------------------------


@compiled.once_per_shape
def _dense_structure(b: int, in_dim: int, features: int):
    shapes = compiled.abstract_init(nn.Dense(features), (2, b, in_dim))
    assert_tree_shapes(shapes, {"params": _layer(in_dim, features)}, what=f"nn.Dense({features}) on (2, {b}, {in_dim})")
    return shapes


@functools.cache
def _dense_program(features: int):
    return compiled.fast_jit(nn.Dense(features).apply)


@conformance_property(
    "02-fw-dense-maps-leading-axes",
    document=DOCUMENT,
    section=Section.WHY_NN_VMAP,
    title="A plain nn.Dense maps over every leading axis: on (A, B, in) its kernel is (in, F) and each "
    "output row is x K + b",
    hint="nn.Dense contracts the last axis only; the leading axes must pass through in order.",
)
@given(shape=cst.dense_shapes(min_rows=2), data_seed=cst.data_seeds())
def test_fw_dense_maps_leading_axes(shape, data_seed):
    b, in_dim, features = shape
    variables = cst.normal_tree(data_seed, _dense_structure(b, in_dim, features))
    x = cst.normal_array(data_seed + 1, (2, b, in_dim))
    out = _dense_program(features)(variables, x)
    k, bias = variables["params"]["kernel"], variables["params"]["bias"]
    rows = x.reshape(2 * b, in_dim)  # the oracle's rows, in row-major order of the two leading axes
    assert_close(
        as_output(out, what="nn.Dense", shape=(2, b, features)).reshape(2 * b, features),
        dense(rows, k, bias),
        tolerances.dense_chain(rows, [(k, bias)]),
        what="nn.Dense on two leading axes against x K + b per row (rows of the (2, B) leading axes, row-major)",
    )
