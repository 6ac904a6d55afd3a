"""Flax mutant: nn.Dense on an input with two leading axes returns its rows in the wrong order.

The rows are computed over the flattened leading axes and put back
column-major: the output shape is right, and an input with a single leading
axis (or one of size 1) is unaffected.
"""

import jax.numpy as jnp
from flax import linen as nn

DOCUMENT = "02"
DEFECT = "nn.Dense un-flattens the leading axes of an (A, B, in) input in column-major order"
CAUGHT_BY = ("02-fw-dense-maps-leading-axes",)


def patch(mp):
    class Dense(nn.Dense):
        def __call__(self, inputs):
            if inputs.ndim != 3:
                return super().__call__(inputs)
            a, b, width = inputs.shape
            flat = super().__call__(inputs.reshape(a * b, width))
            return jnp.swapaxes(flat.reshape(b, a, -1), 0, 1)

    mp.setattr(nn, "Dense", Dense)
