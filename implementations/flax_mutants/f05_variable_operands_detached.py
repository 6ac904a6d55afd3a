"""Flax mutant: a Variable used as an operand converts to its array through stop_gradient
(same values; no gradient flows through Params used directly in arithmetic)."""

import jax
from flax import nnx

DOCUMENT = "05"
DEFECT = "Variable.__jax_array__ returns a detached array"
CAUGHT_BY = ("05-fw-param-operands-act-as-arrays", "05-fw-grad-default-is-params")


def patch(mp):
    to_array = nnx.Variable.__jax_array__

    def detached(self):
        return jax.lax.stop_gradient(to_array(self))

    mp.setattr(nnx.Variable, "__jax_array__", detached)
