"""Document 05, framework: what Flax trains (gradients, the optimizer) and how the worked example computes."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax  # a dependency of Flax itself: nnx.Optimizer takes an optax transformation
from flax import nnx
from hypothesis import given
from hypothesis import strategies as st

from conformance.engine.registry import conformance_property
from conformance.kit import precision, tolerances
from conformance.kit import strategies as cst
from conformance.kit.assertions import as_output, assert_close, assert_keys
from conformance.kit.nnx_compat import held, optimizer_step
from conformance.kit.oracles import dense, f64

from . import DOCUMENT, Section, constructions, oracles


def _outer_tol(expected) -> tolerances.Tolerance:
    """For x outer w, which backprop computes as a length-1 matmul: (gamma_1 + u) |x w| at the run's precision."""
    rel = tolerances.dot_gamma(1) + tolerances.unit_roundoff()
    return tolerances.Tolerance(
        bound=tolerances.MARGIN * rel * np.abs(expected),
        derivation=f"{tolerances.MARGIN:g} x (gamma_1 + u)|x w|, {precision.describe()}",
    )


# --- gradients ------------------------------------------------------------------------


def _loss_reading_count(model, x, weights):
    # count enters the loss: a gradient filter that took plain Variables would give it a gradient of 1
    return jnp.sum(weights * model(x)) + model.count[...]


@functools.cache
def _output_and_default_grad():
    """(model(x), nnx.grad with its default filter), under nnx.jit: one compilation per shape."""
    return nnx.jit(lambda model, x, weights: (model(x), nnx.grad(_loss_reading_count)(model, x, weights)))


def _run_preset(shape, data_seed):
    """(x, weights, model, model(x), default gradient) for a preset MultiParam drawn from ``data_seed``."""
    in_dim, features = shape
    x, weights = cst.normal_array(data_seed + 2, (in_dim,)), cst.normal_array(data_seed + 3, (features,))
    model = constructions.preset(data_seed, in_dim, features)
    out, grads = _output_and_default_grad()(model, x, weights)
    return x, weights, model, out, grads


def _assert_grads(grads, x, weights, *, what: str) -> None:
    for name, expected in oracles.weighted_output_grads(x, weights).items():
        assert_close(np.asarray(held(grads[name])), expected, _outer_tol(expected), what=f"{what} {name}")


@conformance_property(
    "05-fw-grad-default-is-params",
    document=DOCUMENT,
    section=Section.WHY,
    title="nnx.grad with its default filter differentiates the Params (kernel, bias) and gives a plain Variable "
    "(count) no gradient, even where the loss reads it",
    hint="nnx.grad's default wrt is nnx.Param; if count shows up in the gradient, the default filter now takes "
    "every Variable and non-trainable state would be trained.",
)
@given(shape=cst.vector_shapes(), data_seed=cst.data_seeds())
def test_fw_grad_default_is_params(shape, data_seed):
    x, weights, _, _, grads = _run_preset(shape, data_seed)
    assert_keys(
        constructions.state_keys(grads),
        ["bias", "kernel"],
        what="state nnx.grad(loss)(model) differentiates by default",
    )
    _assert_grads(grads, x, weights, what="d loss / d Param from nnx.grad:")


# --- the optimizer --------------------------------------------------------------------


def _loss(model, x, weights):
    return jnp.sum(weights * model(x))


@functools.cache
def _optimizer_step():
    """One nnx.Optimizer(wrt=nnx.Param) step of SGD with decoupled weight decay (decay 0: plain SGD) on each
    model: the same module with count wrapped as nnx.Variable and as nnx.Param. The rates are traced, so the
    program compiles once per shape."""

    def run(models, x, weights, lr, decay):
        for model in models:
            tx = optax.chain(optax.add_decayed_weights(decay), optax.sgd(lr))
            optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
            optimizer_step(optimizer, model, nnx.grad(_loss)(model, x, weights))

    return nnx.jit(run)


@conformance_property(
    "05-fw-optimizer-updates-params-only",
    document=DOCUMENT,
    section=Section.WHY,
    title="nnx.Optimizer(wrt=nnx.Param) moves kernel and bias by its rule and leaves a Variable count alone; a "
    "count wrapped as Param is updated like a weight (moved by weight decay, by nothing else: its gradient is 0)",
    hint="The optimizer must track exactly the Params. A plain Variable that moves means the wrt filter leaks; a "
    "Param-wrapped counter that weight decay does not move means the optimizer skips Params.",
)
@given(
    shape=cst.vector_shapes(),
    data_seed=cst.data_seeds(),
    count=st.integers(1, 1000),
    lr=st.sampled_from((0.5, 0.01)),
    decay=st.sampled_from((0.1, 0.0, 0.01)),
)
def test_fw_optimizer_updates_params_only(shape, data_seed, count, lr, decay):
    in_dim, features = shape
    x, weights = cst.normal_array(data_seed + 2, (in_dim,)), cst.normal_array(data_seed + 3, (features,))
    models = {
        counter: constructions.preset(data_seed, in_dim, features, count=count, counter=counter)
        for counter in (nnx.Variable, nnx.Param)
    }
    start = {name: f64(held(getattr(models[nnx.Variable], name))) for name in ("kernel", "bias")}
    _optimizer_step()(tuple(models.values()), x, weights, np.float32(lr), np.float32(decay))
    grads = oracles.weighted_output_grads(x, weights)
    u = tolerances.unit_roundoff()
    g_err = tolerances.dot_gamma(1) + u  # the gradient x outer w is a matmul
    rule = f"SGD step (lr={lr}, weight decay={decay})"
    for counter, model in models.items():
        wrapped = f"count wrapped as nnx.{counter.__name__}"
        for name, p in start.items():
            expected = p - lr * (grads[name] + decay * p)
            tol = tolerances.Tolerance(
                bound=tolerances.MARGIN
                * (3 * u * (np.abs(p) + lr * decay * np.abs(p)) + (g_err + 2 * u) * lr * np.abs(grads[name])),
                derivation="3 float32 roundings (decay term, scaling, subtraction) of |p| + lr wd|p|, and the gradient's "
                f"(gamma_1 + u) lr|g|, {precision.describe()}",
            )
            assert_close(
                np.asarray(held(getattr(model, name))), expected, tol, what=f"{name} after one {rule}, {wrapped}"
            )
        got = float(np.asarray(held(model.count)))
        if counter is nnx.Variable:
            assert got == count, (
                f"a count wrapped as nnx.Variable is {got} after one {rule}, expected {count} (untouched)"
            )
            continue
        want = count * (1.0 - lr * decay)  # a weight with zero gradient
        assert abs(got - want) <= tolerances.MARGIN * 3 * u * count, (
            f"a count wrapped as nnx.Param is {got} after one {rule}, expected {want:.9g}: the optimizer should "
            f"update it like a weight whose gradient is 0"
        )
        assert (got != count) == bool(decay), (
            f"a count wrapped as nnx.Param went from {count} to {got} in one {rule}: weight decay must move it, and "
            "nothing else (its gradient is 0)"
        )


@conformance_property(
    "05-fw-layers-store-params",
    document=DOCUMENT,
    section=Section.WHY,
    title="Flax's own layers keep kernel matrices, biases and embedding tables as nnx.Param, and nothing else",
    hint="nnx.Linear's kernel and bias and nnx.Embed's table must be Params, or the default gradient filter and "
    "the optimizer would skip them.",
)
# The run's pool, not free sizes: each example traces three or four abstract programs, and a
# default or a layout does not depend on the width.
@given(shape=cst.vector_shapes())
def test_fw_layers_store_params(shape):
    in_dim, features = shape
    # Structure only (nnx.eval_shape): a seed cannot change which types a layer uses.
    layers = {
        f"nnx.Linear({in_dim}, {features})": (
            nnx.eval_shape(lambda: nnx.Linear(in_dim, features, rngs=nnx.Rngs(0))),
            ["bias", "kernel"],
        ),
        f"nnx.Embed({in_dim}, {features})": (
            nnx.eval_shape(lambda: nnx.Embed(in_dim, features, rngs=nnx.Rngs(0))),
            ["embedding"],
        ),
    }
    for what, (layer, names) in layers.items():
        assert_keys(constructions.state_keys(nnx.state(layer, nnx.Param)), names, what=f"nnx.state({what}, nnx.Param)")
        assert_keys(constructions.state_keys(nnx.state(layer)), names, what=f"nnx.state({what}), all of its state")
        for name in names:
            kind = type(getattr(layer, name))
            assert issubclass(kind, nnx.Param), f"{what}.{name} is a {kind.__name__}, expected an nnx.Param"


# --- the worked example's arithmetic ---------------------------------------------------


@conformance_property(
    "05-fw-param-operands-act-as-arrays",
    document=DOCUMENT,
    section=Section.WORKED_EXAMPLE,
    title="x @ self.kernel + self.bias with the Params as operands, as the worked example writes it, computes the "
    "arrays' x @ K + b, returns a jax.Array, and differentiates like the arrays",
    hint="The worked example relies on Variables acting as their arrays in arithmetic (__jax_array__ and the "
    "operators); a Param that converts to a detached or different array breaks the module or its training.",
)
@given(shape=cst.vector_shapes(), data_seed=cst.data_seeds())
def test_fw_param_operands_act_as_arrays(shape, data_seed):
    x, weights, model, out, grads = _run_preset(shape, data_seed)
    assert isinstance(out, jax.Array), (
        f"x @ kernel + bias with Param operands gave a {type(out).__name__}, expected a jax.Array"
    )
    out = as_output(out, what="MultiParam(x)", shape=(shape[1],))
    k, b = np.asarray(held(model.kernel)), np.asarray(held(model.bias))
    assert_close(
        out,
        dense(x, k, b),
        tolerances.dense_chain(x[None, :], [(k, b)]).rows(0),
        what="x @ Param + Param against x @ K + b",
    )
    _assert_grads(grads, x, weights, what="gradient through the Param operand")


@conformance_property(
    "05-fw-recipe-matches-bias-free-linear",
    document=DOCUMENT,
    section=Section.NO_MUTATION,
    title="With its zero bias, MultiParam(in, F, nnx.Rngs(seed)) computes what nnx.Linear(in, F, use_bias=False, "
    "rngs=nnx.Rngs(seed)) computes",
    hint="The document's sanity check assumes problem 1's bias-less Linear draws the same kernel. nnx.Linear "
    "draws lecun_normal (a truncated normal, rescaled), not normal / sqrt(in), so the outputs differ.",
)
@given(seed=cst.seeds(), shape=cst.vector_shapes(), data_seed=cst.data_seeds())
def test_fw_recipe_matches_bias_free_linear(seed, shape, data_seed):
    in_dim, features = shape
    x = cst.normal_array(data_seed, (in_dim,))
    recipe = constructions.scaled_normal_kernel(constructions.multi_param_normal_draw(seed, in_dim, features), in_dim)
    linear = constructions.bias_free_linear_kernel(seed, in_dim, features)
    # Both outputs in float64 from each module's kernel: the modules' own arithmetic is checked elsewhere.
    tol = tolerances.combined(
        (1.0, tolerances.dense_chain(x[None, :], [(recipe, None)]).rows(0)),
        (1.0, tolerances.dense_chain(x[None, :], [(linear, None)]).rows(0)),
    )
    assert_close(
        dense(x, recipe),
        dense(x, linear),
        tol,
        what="MultiParam(x) (bias zero) against the bias-less nnx.Linear(x) with the same seed",
    )
