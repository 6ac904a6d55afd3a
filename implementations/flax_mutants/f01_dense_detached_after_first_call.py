"""Flax mutant: a Dense instance called again within one init/apply computes with a gradient-stopped kernel.

Outputs and params are unchanged; only gradients through the second and later
calls of one instance are lost, which no single-call test sees.
"""

import jax
import jax.numpy as jnp
from flax import linen as nn

DOCUMENT = "01"
DEFECT = "the kernel's gradient flows only through the first call of a shared Dense"
CAUGHT_BY = ("01-fw-siamese-encoder-shared", "01-fw-one-instance-one-param-set")


def patch(mp):
    class Dense(nn.Dense):
        def __call__(self, inputs):
            calls = self.__dict__.get("_calls_so_far", 0)
            object.__setattr__(self, "_calls_so_far", calls + 1)
            if calls == 0:
                return super().__call__(inputs)
            y = jnp.dot(inputs, jax.lax.stop_gradient(self.get_variable("params", "kernel")))
            return y + self.get_variable("params", "bias") if self.use_bias else y

    mp.setattr(nn, "Dense", Dense)
