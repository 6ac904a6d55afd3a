"""Flax mutant: nnx.Optimizer ignores its wrt filter and updates every Variable (a missing gradient counts as 0)."""

import jax
import jax.numpy as jnp
from flax import nnx

DOCUMENT = "05"
DEFECT = "nnx.Optimizer(wrt=nnx.Param) also updates plain Variables"
CAUGHT_BY = ("05-fw-optimizer-updates-params-only",)


def patch(mp):
    init, update = nnx.Optimizer.__init__, nnx.Optimizer.update

    def every_variable_init(self, model, tx, *, wrt, **kwargs):
        init(self, model, tx, wrt=nnx.Variable, **kwargs)

    def every_variable_update(self, model, grads, /, **kwargs):
        full = jax.tree_util.tree_map(jnp.zeros_like, nnx.state(model, nnx.Variable))
        return update(self, model, nnx.merge_state(full, grads), **kwargs)

    mp.setattr(nnx.Optimizer, "__init__", every_variable_init)
    mp.setattr(nnx.Optimizer, "update", every_variable_update)
