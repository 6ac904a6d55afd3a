"""Building and calling an implementation's document-04 models.

Each model is named by its export (``TransformerBlock``, ``SharedTransformer``,
``UnsharedTransformer``), its positional sizes and, for the shared model, its
``share`` mode. Everything compiled or traced is cached per (class, sizes,
mode, input shape), so a property's hundred examples reuse a handful of
programs. Every call runs inside ``impl.running``: an implementation that
raises is reported as an error of the implementation, not of the suite.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from conformance.engine.contract import SHARE_MODES
from conformance.kit import flops as flops_mod
from conformance.kit.assertions import as_output
from conformance.kit.compiled import abstract_init, fast_jit

# The contract names the properties need, and the share modes the document defines.
BLOCK = ("TransformerBlock",)
SHARED = ("SharedTransformer",)
UNSHARED = ("UnsharedTransformer",)
MODES = SHARE_MODES

# (B, S) used to initialise models for structure; parameters do not depend on it.
X_SHAPE = (2, 3)

# Replaying a scan as a Python loop gives exactly the Python loop's count for the
# reference and the nn.scan variant; the allowance covers a conforming model that adds
# a few elementwise operations (a cast, loop bookkeeping). One layer is >= 1/3 of the
# total at these sizes, so a skipped or repeated layer is far outside it.
FLOP_REL_TOL = 1e-3


def describe(export: str, args: tuple, share: str | None = None) -> str:
    """How a failure message names the model: ``SharedTransformer(2, 8, 2, 16, share='all')``."""
    inner = ", ".join(map(str, args)) + (f", share={share!r}" if share is not None else "")
    return f"{export}({inner})"


def supports(impl, share: str | None) -> bool:
    """Whether the implementation's SharedTransformer offers ``share`` (None: a model without a mode)."""
    return share is None or share in impl.share_modes()


def _build(cls, args: tuple, share: str | None):
    return cls(*args) if share is None else cls(*args, share=share)


def construct(impl, export: str, args: tuple, share: str | None = None):
    cls = impl.get(export)
    with impl.running(describe(export, args, share)):
        return _build(cls, args, share)


@functools.cache
def _shapes(cls, args: tuple, share: str | None) -> dict:
    d_model = args[0] if len(args) == 3 else args[1]  # (d, heads, d_ff) or (L, d, heads, d_ff)
    variables = abstract_init(_build(cls, args, share), (*X_SHAPE, d_model))
    if "params" not in variables:
        raise AssertionError(f"init returned collections {sorted(variables)}, expected a 'params' collection")
    return variables["params"]


def param_shapes(impl, export: str, args: tuple, share: str | None = None) -> dict:
    """The abstract ``params`` of ``export(*args)`` from jax.eval_shape (nothing compiled)."""
    with impl.running(f"{describe(export, args, share)}.init under jax.eval_shape"):
        return _shapes(impl.get(export), args, share)


@functools.cache
def _init_fn(cls, args: tuple, share: str | None):
    model = _build(cls, args, share)
    d_model = args[0] if len(args) == 3 else args[1]
    # fast_jit, although the optimisation level moves the last bit of a truncated-normal draw: what is drawn is
    # only compared with itself (layers drawn apart), and a 24-layer init compiles in a third of the time.
    return fast_jit(lambda key: model.init(key, jnp.zeros((*X_SHAPE, d_model), jnp.float32))["params"])


def init(impl, export: str, args: tuple, seed: int, share: str | None = None) -> dict:
    """``export(*args).init(PRNGKey(seed), x)['params']`` as NumPy arrays (compiled once per class and size)."""
    with impl.running(f"{describe(export, args, share)}.init"):
        params = _init_fn(impl.get(export), args, share)(jax.random.PRNGKey(seed))
    return jax.tree_util.tree_map(np.asarray, params)


@functools.cache
def _apply_fn(cls, args: tuple, share: str | None, x_shape: tuple):
    model = _build(cls, args, share)
    return fast_jit(lambda params, x: model.apply({"params": params}, x))


def apply(impl, export: str, args: tuple, params, x, share: str | None = None) -> np.ndarray:
    what = f"{describe(export, args, share)}.apply"
    with impl.running(what):
        out = _apply_fn(impl.get(export), args, share, np.shape(x))(params, x)
    return as_output(out, what=what, shape=np.shape(x))


@functools.cache
def _out_and_grad_fn(cls, args: tuple, share: str | None, x_shape: tuple):
    model = _build(cls, args, share)

    def run(params, x, cotangent):
        out, pullback = jax.vjp(lambda p: model.apply({"params": p}, x), params)
        return out, pullback(cotangent)[0]

    return fast_jit(run)


def out_and_grad(impl, export: str, args: tuple, params, x, cotangent, share: str | None = None):
    """Output and d(sum(out * cotangent))/d params, as NumPy arrays."""
    what = f"{describe(export, args, share)}: output and gradient"
    with impl.running(what):
        out, grads = _out_and_grad_fn(impl.get(export), args, share, np.shape(x))(params, x, cotangent)
    return as_output(out, what=what, shape=np.shape(x)), jax.tree_util.tree_map(np.asarray, grads)


@functools.cache
def _flops(cls, args: tuple, share: str | None, x_shape: tuple, grad: bool) -> flops_mod.FlopCount:
    model = _build(cls, args, share)
    x = jax.ShapeDtypeStruct(x_shape, jnp.float32)
    params = _shapes(cls, args, share)
    if grad:
        return flops_mod.count_flops(jax.grad(lambda p, x: jnp.sum(model.apply({"params": p}, x))), params, x)
    return flops_mod.count_flops(lambda p, x: model.apply({"params": p}, x), params, x)


def flops(
    impl, export: str, args: tuple, x_shape: tuple, share: str | None = None, grad: bool = False
) -> flops_mod.FlopCount:
    """FLOPs of the forward pass (or of the gradient of its sum), from lowered cost analysis."""
    param_shapes(impl, export, args, share)  # init failures are reported as such
    what = f"{describe(export, args, share)}: {'gradient' if grad else 'forward'} lowered for cost analysis"
    with impl.running(what):
        found = _flops(impl.get(export), args, share, x_shape, grad)
    if not found.exact:
        raise AssertionError(
            f"{what}: {found.while_loops} while loop(s) that are not lax.scan remain; XLA counts a "
            f"loop body once, so FLOPs cannot be compared"
        )
    return found
