"""Document 05, framework: Variables as wrappers and types, what a checkpoint keeps, and bare array attributes."""

from __future__ import annotations

import jax
import numpy as np
from flax import nnx
from hypothesis import given
from hypothesis import strategies as st

from conformance.engine.registry import conformance_property
from conformance.kit import compiled
from conformance.kit import strategies as cst
from conformance.kit.assertions import assert_equal_arrays, assert_keys
from conformance.kit.nnx_compat import held

from . import DOCUMENT, Section, checkpoint, constructions


@conformance_property(
    "05-fw-variables-wrap-arrays",
    document=DOCUMENT,
    section=Section.API,
    title="nnx.Param and nnx.Variable are wrappers, not arrays: each holds the very jax.Array it was given",
    hint="A Variable that converts or copies its value (to NumPy, say) no longer wraps a JAX array.",
)
@given(shape=cst.vector_shapes(), data_seed=cst.data_seeds())
def test_fw_variables_wrap_arrays(shape, data_seed):
    kernel = jax.device_put(cst.normal_array(data_seed, shape))  # jax arrays made without compiling
    count = jax.device_put(np.float32(data_seed % 1000))
    for wrapper, array, what in (
        (nnx.Param(kernel), kernel, "nnx.Param(kernel)"),
        (nnx.Variable(count), count, "nnx.Variable(jnp.array(count))"),
    ):
        assert not isinstance(wrapper, jax.Array), f"{what} is itself a jax.Array, not a wrapper"
        inner = held(wrapper)
        assert inner is array, (
            f"{what} holds a {type(inner).__module__}.{type(inner).__name__}, not the jax.Array it was given"
        )
        assert isinstance(wrapper[...], jax.Array), (
            f"{what}[...] is a {type(wrapper[...]).__name__}, expected a jax.Array"
        )


class Cache(nnx.Variable):
    """A variable type of our own, as the document says the subclass relationship allows."""


class _Typed(nnx.Module):
    def __init__(self, in_dim: int, features: int):
        zeros = lambda *s: jax.device_put(np.zeros(s, np.float32))  # noqa: E731
        self.kernel = nnx.Param(zeros(in_dim, features))
        self.count = nnx.Variable(zeros())
        self.cache = Cache(zeros(features))
        self.mean = nnx.BatchStat(zeros(features))


@conformance_property(
    "05-fw-custom-variable-types",
    document=DOCUMENT,
    section=Section.API,
    title="Subclasses of nnx.Variable (nnx.BatchStat, nnx.Cache, one's own) are types of their own: each filter "
    "selects exactly its type, Param leaves them out, Variable takes them all",
    hint="State filters select by Variable subclass; a custom type that a Param or sibling filter also takes, or "
    "that the Variable filter misses, breaks the separation the document builds on.",
)
@given(shape=cst.vector_shapes(structural=True))
def test_fw_custom_variable_types(shape):
    for kind in (nnx.BatchStat, nnx.Cache, Cache):
        assert issubclass(kind, nnx.Variable) and not issubclass(kind, nnx.Param), (
            f"{kind.__module__}.{kind.__name__} should subclass nnx.Variable and not nnx.Param (MRO {kind.__mro__})"
        )
    module = _Typed(*shape)
    expected = {
        "nnx.Param": (nnx.Param, ["kernel"]),
        "Cache (ours)": (Cache, ["cache"]),
        "nnx.BatchStat": (nnx.BatchStat, ["mean"]),
        "nnx.Variable": (nnx.Variable, ["cache", "count", "kernel", "mean"]),
    }
    for what, (kind, names) in expected.items():
        assert_keys(constructions.state_keys(nnx.state(module, kind)), names, what=f"nnx.state(module, {what})")
    assert_keys(
        constructions.state_keys(nnx.state(module, nnx.Cache)),
        [],
        what="nnx.state(module, nnx.Cache) (Flax's Cache is not ours)",
    )


@conformance_property(
    "05-fw-variables-survive-checkpoint",
    document=DOCUMENT,
    section=Section.WHY,
    title="A module's state saved to bytes and restored into a freshly built module brings back kernel, bias and "
    "a changed count, the count still a plain Variable",
    hint="Non-trainable Variables belong to the state: saving nnx.state(model) must include count, and nnx.update "
    "must write it back.",
)
@given(shape=cst.vector_shapes(), data_seed=cst.data_seeds(), count=st.integers(1, 1000))
def test_fw_variables_survive_checkpoint(shape, data_seed, count):
    trained = constructions.preset(data_seed, *shape, count=count)
    blob = checkpoint.save(trained)
    fresh = constructions.preset(data_seed + 7, *shape)  # another kernel and bias, count 0
    checkpoint.restore(fresh, blob)
    for name in ("kernel", "bias"):
        assert_equal_arrays(
            np.asarray(held(getattr(fresh, name))),
            np.asarray(held(getattr(trained, name))),
            what=f"{name} restored from the checkpoint",
        )
    got = np.asarray(held(fresh.count))
    assert got == count, (
        f"count restored from the checkpoint is {got}, expected {count} (saved paths: {checkpoint.saved_paths(blob)})"
    )
    assert type(fresh.count) is nnx.Variable, (
        f"count is a {type(fresh.count).__name__} after the restore, expected nnx.Variable"
    )


class _BareCount(nnx.Module):
    """kernel as nnx.Param, count as a bare jax array (the document's second and third pitfalls)."""

    def __init__(self, in_dim: int, features: int, count: float):
        self.kernel = nnx.Param(jax.device_put(np.ones((in_dim, features), np.float32)))
        self.count = jax.device_put(np.float32(count))  # no wrapper

    def __call__(self, x):
        self.count = self.count + 1  # a plain attribute assignment inside __call__
        return x @ self.kernel[...]


@conformance_property(
    "05-fw-bare-array-not-restored",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="A bare jax array attribute is not saved with the model: restoring a checkpoint leaves it as built",
    hint="The document says an unwrapped array is static. Releases that treat array attributes as state save "
    "and restore it like a Variable.",
)
@given(shape=cst.vector_shapes(), count=st.integers(1, 1000))
def test_fw_bare_array_not_restored(shape, count):
    blob = checkpoint.save(_BareCount(*shape, count))
    fresh = _BareCount(*shape, 0.0)
    checkpoint.restore(fresh, blob)
    got = float(np.asarray(fresh.count))
    assert got == 0.0, (
        f"the bare count of a freshly built module is {got} after restoring a checkpoint saved with "
        f"count {count}: it was saved and restored (saved paths: {checkpoint.saved_paths(blob)})"
    )


@conformance_property(
    "05-fw-bare-mutation-lost",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="A bare jax array reassigned inside __call__ does not survive an nnx.split/nnx.merge round trip",
    hint="The document says plain attribute assignment is lost in a split/merge round trip; releases that treat "
    "array attributes as state carry the new value through nnx.jit and split/merge.",
)
@given(shape=cst.vector_shapes(), data_seed=cst.data_seeds(), under_jit=st.booleans())
def test_fw_bare_mutation_lost(shape, data_seed, under_jit):
    model = _BareCount(*shape, 0.0)
    x = cst.normal_array(data_seed, (shape[0],))
    if under_jit:
        compiled.nnx_call(model, x)
    else:
        model(jax.device_put(x))
    rebuilt = nnx.merge(*nnx.split(model))
    got = float(np.asarray(rebuilt.count))
    how = "under nnx.jit" if under_jit else "eagerly"
    assert got == 0.0, (
        f"count, a bare array set to count + 1 inside __call__ ({how}), is {got} after "
        f"nnx.split/nnx.merge: the assignment survived the round trip"
    )
