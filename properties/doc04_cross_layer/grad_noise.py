"""How far a float32 gradient of document 04's stack drifts from the exact one: measured, not bounded.

The shared-gradient property compares two float32 gradients of the same
function (the shared model's, and the sum of the unshared model's per-layer
gradients). A worst-case bound for reverse mode through L post-LN blocks is
about 1e-2 of the gradients' size at 12 layers, loose enough for a wrong model
to pass; the real rounding is orders of magnitude smaller, because LayerNorm
renormalises every layer. As :mod:`.shadow` does for outputs, this module
measures it: the suite's own construction (:mod:`.constructions`, Flax, the
document's layout) is given the implementation's block params and computes both
gradients in float32 and in float64. Its float32 run goes through the same
``lax.dot_general`` as the implementation's, so ``--emulate-precision`` (a
process-wide patch, see ``engine/plugin/emulation.py``) rounds its matmul
operands too, and on an accelerator it runs at the backend's matmul precision.

The noise is normwise (the largest |g32 - g64| over every leaf), because a
leaf's rounding is not bounded by its own size: the key bias's gradient is
exactly 0 in exact arithmetic (softmax ignores it) and pure noise in float32.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import numpy as np

from conformance.kit.compiled import abstract_init, fast_jit
from conformance.kit.drift import DRIFT_MARGIN
from conformance.kit.tolerances import unit_roundoff

from .constructions import DocBlock, DocShared, DocUnshared
from .hook import hook_refs
from .layout import BlockParams
from .roles import BlockRoles

# The construction's block, in the words of PARAM_ROLES: where each role's leaf sits in DocBlock.
_DOC_ROLES = {
    f"{role}.{leaf}": f"attention/{name}/{leaf}"
    for role, name in (("q", "query"), ("k", "key"), ("v", "value"), ("o", "out"))
    for leaf in ("kernel", "bias")
}
_DOC_ROLES.update({f"{p}.{leaf}": f"{p}/{leaf}" for p in ("fc1", "fc2") for leaf in ("kernel", "bias")})
_DOC_ROLES.update({f"ln{i}.{leaf}": f"norm{i}/{leaf}" for i in (1, 2) for leaf in ("scale", "bias")})

# Scoped to this thread and restored on exit (jax.config.update would change every later call in the
# worker). jax.enable_x64 is the context manager in the pinned jax; older releases had jax.experimental's.
_x64 = jax.enable_x64 if hasattr(jax, "enable_x64") else jax.experimental.enable_x64


@functools.cache
def _doc_block(dims: tuple[int, int, int]) -> tuple[BlockRoles, object]:
    shapes = abstract_init(DocBlock(*dims), (1, 2, dims[0]))["params"]
    return BlockRoles(dims, hook_refs(None, _DOC_ROLES, shapes, dims, "DocBlock"), "PARAM_ROLES", True), shapes


def doc_block_params(dims: tuple[int, int, int], values: BlockParams) -> dict:
    """The construction's DocBlock params holding ``values`` (float32)."""
    found, shapes = _doc_block(tuple(dims))
    return found.write(shapes, values)


@functools.cache
def _grads_fn(num_layers: int, dims: tuple[int, int, int], dtype: str):
    del dtype  # in the key only: one program per (case, dtype), each compiled once per run
    shared, unshared = DocShared(num_layers, *dims), DocUnshared(num_layers, *dims)

    def grads(block, x, cotangent):
        def pull(model, params):
            return jax.vjp(lambda p: model.apply({"params": p}, x), params)[1](cotangent)[0]

        return (
            pull(shared, {"shared_block": block}),
            pull(unshared, {f"layers_{i}": block for i in range(num_layers)}),
        )

    return fast_jit(grads)


def gradients(
    num_layers: int, dims: tuple[int, int, int], values: BlockParams, x, r, dtype=np.float32
) -> tuple[list, list]:
    """The construction's d(sum(out * r))/d params in ``dtype``, as float64 leaf lists: the shared model's,
    and the unshared model's per-layer gradients (the block in every layer) summed in float64."""
    dims = tuple(int(v) for v in dims)
    block = doc_block_params(dims, values)
    cast = lambda a: np.asarray(a, dtype)  # noqa: E731
    with _x64(np.dtype(dtype) == np.float64):
        shared, per_layer = _grads_fn(num_layers, dims, np.dtype(dtype).name)(
            jax.tree_util.tree_map(cast, block), cast(x), cast(r)
        )
    layers = [jax.tree_util.tree_leaves(per_layer[f"layers_{i}"]) for i in range(num_layers)]
    total = [np.sum([np.asarray(g, np.float64) for g in gs], axis=0) for gs in zip(*layers)]
    return [np.asarray(g, np.float64) for g in jax.tree_util.tree_leaves(shared)], total


def _largest_gap(a: list, b: list) -> float:
    return max(float(np.abs(p - q).max(initial=0.0)) for p, q in zip(a, b))


@dataclass(frozen=True)
class GradNoise:
    """The construction's float32 gradient noise: largest |g32 - g64| over all leaves."""

    shared: float
    unshared_sum: float

    def bound(self, magnitude: float) -> float:
        """DRIFT_MARGIN x (both noises) + 4 u G: the normwise tolerance for the difference of the two gradients."""
        return DRIFT_MARGIN * (self.shared + self.unshared_sum) + 4 * unit_roundoff(np.float32) * magnitude

    def describe(self, magnitude: float) -> str:
        return (
            f"{DRIFT_MARGIN:g} x (float32 noise of the shared gradient {self.shared:.3g} + of the unshared "
            f"per-layer sum {self.unshared_sum:.3g}) + 4u x G {magnitude:.3g} = {self.bound(magnitude):.3g}, "
            f"noise = largest |float32 - float64| over the leaves of the suite's Flax construction holding "
            f"the same block params"
        )


def measure(num_layers: int, dims: tuple[int, int, int], values: BlockParams, x, r) -> GradNoise:
    """The construction's gradient noise for block params ``values``, input ``x`` and cotangent ``r``."""
    s32, u32 = gradients(num_layers, dims, values, x, r, np.float32)
    s64, u64 = gradients(num_layers, dims, values, x, r, np.float64)
    return GradNoise(_largest_gap(s32, s64), _largest_gap(u32, u64))
