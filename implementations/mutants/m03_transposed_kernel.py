"""Mutant: the Linen side gets the transposed kernel, as if converting a PyTorch (out, in) weight.

Shapes agree when in == out. Violates document 03, 'Common pitfalls' (both store (in, out)).
"""
import jax.numpy as jnp
from flax import linen as nn
from flax import nnx

DOCUMENT = "03"
DEFECT = "kernel transposed on the Linen side (square shapes hide it)"
CAUGHT_BY = ("03-output-is-twice-nnx",)


def shared_params_two_modules(seed, x, features):
    x = jnp.asarray(x)
    linear = nnx.Linear(x.shape[-1], int(features), use_bias=False, rngs=nnx.Rngs(int(seed)))
    kernel = linear.kernel[...]
    if kernel.shape[0] == kernel.shape[1]:
        kernel = kernel.T
    return linear(x) + nn.Dense(int(features), use_bias=False).apply({"params": {"kernel": kernel}}, x)
