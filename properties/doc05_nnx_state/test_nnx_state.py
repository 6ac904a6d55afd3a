"""Document 05: nnx.Param (trainable) versus nnx.Variable (state that is not trained)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from hypothesis import given
from hypothesis import strategies as st

from conformance.engine.registry import conformance_property
from conformance.kit import compiled, forward, oracles, tolerances
from conformance.kit import strategies as cst
from conformance.kit.assertions import as_output, assert_close, assert_equal_arrays, assert_keys
from conformance.kit.nnx_compat import assign

from . import DOCUMENT, Section, constructions


def _build(impl, seed, in_dim, features):
    with impl.running("MultiParam(in, out, rngs)"):
        return compiled.build_nnx(impl.get("MultiParam"), in_dim, features, seed=seed)


_state_keys = constructions.state_keys


def _array(variable) -> np.ndarray:
    return np.asarray(variable[...]) if isinstance(variable, nnx.Variable) else np.asarray(variable)


def _kernel_rounding(in_dim: int) -> float:
    """The implementation scales a float32 draw in float32 (normal * 1/sqrt(in), or / sqrt(in)):
    at most two roundings (the reciprocal square root and the product) relative to the float64 recipe."""
    return 3 * tolerances.unit_roundoff()


# --- the module --------------------------------------------------------------


@conformance_property(
    "05-param-filter-is-kernel-and-bias",
    document=DOCUMENT,
    section=Section.API,
    title="nnx.state(model, nnx.Param) holds exactly kernel and bias",
    hint="Wrap kernel and bias in nnx.Param and count in nnx.Variable (not Param).",
    needs=("MultiParam",),
)
@given(seed=cst.seeds(), shape=cst.vector_shapes())
def test_param_filter_is_kernel_and_bias(impl, seed, shape):
    model = _build(impl, seed, *shape)
    assert_keys(_state_keys(nnx.state(model, nnx.Param)), ["bias", "kernel"], what="nnx.state(model, nnx.Param)")


@conformance_property(
    "05-full-state-has-all-three",
    document=DOCUMENT,
    section=Section.API,
    title="nnx.state(model) and nnx.state(model, nnx.Variable) both hold kernel, bias and count",
    hint="count must be an nnx.Variable; a bare array is not a Variable and drops out of the Variable filter.",
    needs=("MultiParam",),
)
@given(seed=cst.seeds(), shape=cst.vector_shapes())
def test_full_state_has_all_three(impl, seed, shape):
    model = _build(impl, seed, *shape)
    assert_keys(_state_keys(nnx.state(model)), ["bias", "count", "kernel"], what="nnx.state(model)")
    assert_keys(
        _state_keys(nnx.state(model, nnx.Variable)), ["bias", "count", "kernel"], what="nnx.state(model, nnx.Variable)"
    )


@conformance_property(
    "05-initial-values-follow-recipe",
    document=DOCUMENT,
    section=Section.WORKED_EXAMPLE,
    title="At construction bias is zeros (F,), count is 0, and kernel is normal(rngs.params()) / sqrt(in)",
    hint="Draw the kernel with the first rngs.params() key, shape (in, out), scaled by 1/sqrt(in_features).",
    needs=("MultiParam",),
)
@given(seed=cst.seeds(), shape=cst.vector_shapes())
def test_initial_values_follow_recipe(impl, seed, shape):
    in_dim, features = shape
    model = _build(impl, seed, in_dim, features)
    bias = _array(model.bias)
    assert bias.shape == (features,) and not bias.any(), (
        f"bias is {bias[:4]} with shape {bias.shape}, expected zeros ({features},)"
    )
    count = _array(model.count)
    assert count.shape == () and count == 0, f"count is {count!r}, expected a scalar 0"
    expected = constructions.scaled_normal_kernel(constructions.multi_param_normal_draw(seed, in_dim, features), in_dim)
    tol = tolerances.elementwise(expected, ulps=_kernel_rounding(in_dim) / tolerances.unit_roundoff())
    assert_close(
        _array(model.kernel), expected, tol, what="MultiParam kernel against normal(key, (in, out)) / sqrt(in)"
    )


@conformance_property(
    "05-call-leaves-count-alone",
    document=DOCUMENT,
    section=Section.NO_MUTATION,
    title="Calling the module computes x @ kernel + bias and leaves count at 0",
    hint="__call__ must only compute; incrementing count belongs to a later problem.",
    needs=("MultiParam",),
)
@given(seed=cst.seeds(), shape=cst.vector_shapes(), data_seed=cst.data_seeds())
def test_call_leaves_count_alone(impl, seed, shape, data_seed):
    in_dim, features = shape
    x = cst.normal_array(data_seed, (in_dim,))
    model = _build(impl, seed, in_dim, features)
    with impl.running("MultiParam.__call__"):
        out = compiled.nnx_call(model, x)
        out = compiled.nnx_call(model, x)  # twice: a counter bumped per call cannot hide behind a reset
    out = as_output(out, what="MultiParam(x)", shape=(features,))
    count = _array(model.count)
    assert count == 0, f"count is {count} after two calls, expected 0"
    k, b = _array(model.kernel), _array(model.bias)
    assert_close(
        out,
        oracles.dense(x, k, b),
        tolerances.dense_chain(x[None, :], [(k, b)]).rows(0),
        what="MultiParam(x) against x @ kernel + bias",
    )


@conformance_property(
    "05-split-merge-keeps-state",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="nnx.split then nnx.merge gives back kernel, bias and count, including a count that was changed",
    hint="count must be an nnx.Variable: plain attributes are not state and are rebuilt from the graph definition.",
    needs=("MultiParam",),
)
@given(seed=cst.seeds(), shape=cst.vector_shapes(), new_count=st.integers(1, 1000))
def test_split_merge_keeps_state(impl, seed, shape, new_count):
    model = _build(impl, seed, *shape)
    count = model.count
    if isinstance(count, nnx.Variable):
        assign(count, jnp.asarray(float(new_count)))
    else:  # a bare attribute: assign, and the round trip must still keep it
        model.count = jnp.asarray(float(new_count))
    graphdef, state = nnx.split(model)
    rebuilt = nnx.merge(graphdef, state)
    for name in ("kernel", "bias"):
        assert_equal_arrays(
            _array(getattr(rebuilt, name)), _array(getattr(model, name)), what=f"{name} after split/merge"
        )
    got = _array(rebuilt.count)
    assert got == new_count, f"count after split/merge is {got}, expected {new_count}"
    assert isinstance(rebuilt.count, nnx.Variable) and not isinstance(rebuilt.count, nnx.Param), (
        f"count after split/merge is a {type(rebuilt.count).__name__}, expected an nnx.Variable that is not a Param"
    )


def _param_grad_of_sum(graphdef, params, rest, x):
    return jax.grad(lambda p: jnp.sum(nnx.merge(graphdef, p, rest)(x)))(params)


# The graph definition is static: one compilation per (class, shape).
_param_grad = compiled.fast_jit(_param_grad_of_sum, static_argnums=0)


@conformance_property(
    "05-sgd-step-updates-params-only",
    document=DOCUMENT,
    section=Section.WHY,
    title="A gradient step over nnx.Param state moves kernel and bias by -lr * grad and leaves count unchanged",
    hint="Take the step over the nnx.Param state only: kernel and bias move by -lr * grad and count stays. (A count "
    "wrapped as nnx.Param would be differentiated too, but its gradient is 0, so plain SGD leaves it; only a "
    "non-gradient term such as weight decay would move it.)",
    needs=("MultiParam",),
)
@given(seed=cst.seeds(), shape=cst.vector_shapes(), data_seed=cst.data_seeds(), lr=st.sampled_from((0.5, 0.01)))
def test_sgd_step_updates_params_only(impl, seed, shape, data_seed, lr):
    in_dim, features = shape
    x = cst.normal_array(data_seed, (in_dim,))
    model = _build(impl, seed, in_dim, features)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    with impl.running("grad of sum(MultiParam(x)) over nnx.Param state"):
        grads = _param_grad(graphdef, params, rest, x)
    # The step itself is the suite's arithmetic: NumPy, so it compiles nothing.
    updated = jax.tree_util.tree_map(lambda p, g: np.asarray(p) - np.float32(lr) * np.asarray(g), params, grads)
    stepped = nnx.merge(graphdef, updated, rest)
    k0, b0 = _array(model.kernel), _array(model.bias)
    # d sum(x K + b) / dK = x outer 1, / db = 1
    u = tolerances.unit_roundoff()
    expect_k = k0 - lr * np.outer(x, np.ones(features))
    expect_b = b0 - lr * np.ones(features)
    for name, expected in (("kernel", expect_k), ("bias", expect_b)):
        # The gradient x outer 1 is a matmul: at reduced matmul precision its operands are rounded too.
        g_err = tolerances.dot_gamma(1) + u
        tol = tolerances.Tolerance(
            bound=tolerances.MARGIN * (2 * u * np.abs(expected) + g_err * lr * np.abs(x).max(initial=1.0)),
            derivation="2 roundings (scale, subtract) of |p|, and the gradient's (gamma_1 + u) lr|g|",
        )
        assert_close(_array(getattr(stepped, name)), expected, tol, what=f"{name} after one SGD step")
    count = _array(stepped.count)
    assert count == 0, f"count after an SGD step over nnx.Param is {count}, expected 0 (it is not trainable)"


@conformance_property(
    "05-bias-dtype-is-float32",
    document=DOCUMENT,
    section=Section.WORKED_EXAMPLE,
    title="MultiParam's bias is float32, like its kernel",
    hint="Build the bias with jnp.zeros((out,)), whose default dtype is float32.",
    needs=("MultiParam",),
)
@given(seed=cst.seeds(), shape=cst.vector_shapes())
def test_bias_dtype_is_float32(impl, seed, shape):
    model = _build(impl, seed, *shape)
    dtype = _array(model.bias).dtype
    assert dtype == np.float32, f"bias dtype is {dtype}, expected float32"


# --- the forward function ------------------------------------------------------


@conformance_property(
    "05-forward-matches-recipe",
    document=DOCUMENT,
    section=Section.PROBLEM,
    title="multi_param_forward(seed, x, F) returns x @ (normal(Rngs(seed).params()) / sqrt(in)) + 0 as a (F,) array",
    hint="Build nnx.Rngs(int(seed)) and MultiParam(x.shape[-1], int(features)); return the module's output.",
    needs=("multi_param_forward",),
)
@given(seed=cst.seeds(), shape=cst.vector_shapes(), data_seed=cst.data_seeds(), as_float=st.booleans())
def test_forward_matches_recipe(impl, seed, shape, data_seed, as_float):
    in_dim, features = shape
    x = cst.normal_array(data_seed, (in_dim,))
    out = forward.call(impl, "multi_param_forward", seed, x, features, shape=(features,), as_float=as_float)
    kernel = constructions.scaled_normal_kernel(constructions.multi_param_normal_draw(seed, in_dim, features), in_dim)
    tol = tolerances.dense_chain(x[None, :], [(kernel, None)], param_rel_error=_kernel_rounding(in_dim)).rows(0)
    assert_close(out, oracles.dense(x, kernel), tol, what="multi_param_forward")


# --- what Flax does --------------------------------------------------------------


class _Probe(nnx.Module):
    def __init__(self, in_dim: int, features: int, seed: int, plain: bool = True):
        # jax arrays put on the device from NumPy: built with jnp they would compile per shape.
        self.kernel = nnx.Param(jax.device_put(np.ones((in_dim, features), np.float32)))
        self.count = nnx.Variable(jax.device_put(np.float32(0.0)))
        if plain:  # 0.10.0-0.10.4 refuse any state query on a module holding a bare array
            self.plain = jax.device_put(np.full((features,), float(seed), np.float32))  # no wrapper


@conformance_property(
    "05-fw-param-is-a-variable",
    document=DOCUMENT,
    section=Section.API,
    title="nnx.Param subclasses nnx.Variable, so filtering by Variable also returns Params",
    hint="Flax's Variable hierarchy changed; see flax.nnx.variablelib.",
)
@given(shape=cst.vector_shapes(), seed=cst.seeds())
def test_fw_param_is_a_variable(shape, seed):
    assert issubclass(nnx.Param, nnx.Variable), "nnx.Param is not a subclass of nnx.Variable"
    probe = _Probe(*shape, seed % 100, plain=False)
    keys = _state_keys(nnx.state(probe, nnx.Variable))
    assert "kernel" in keys and "count" in keys, (
        f"nnx.state(model, nnx.Variable) holds {keys}, expected kernel and count"
    )


@conformance_property(
    "05-fw-bare-array-is-not-state",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="A jax array assigned without a wrapper is not part of nnx.state or nnx.split",
    hint="Releases that treat array attributes as pytree data put bare arrays in the state.",
)
@given(shape=cst.vector_shapes(), seed=cst.seeds())
def test_fw_bare_array_is_not_state(shape, seed):
    probe = _Probe(*shape, seed % 100)
    state_keys = _state_keys(nnx.state(probe))
    _, split_state = nnx.split(probe)
    split_keys = _state_keys(split_state)
    assert "plain" not in state_keys, f"nnx.state includes the bare array attribute: {state_keys}"
    assert "plain" not in split_keys, f"nnx.split's state includes the bare array attribute: {split_keys}"
