"""Mutant: the Linen side gets the transposed kernel, as if converting a PyTorch (out, in) weight.

Shapes agree when in == out. Violates document 03, 'Common pitfalls' (both store (in, out)).
"""

from conformance.implementations.mutants._bridge import two_modules
from flax import linen as nn
from flax import nnx

DOCUMENT = "03"
DEFECT = "kernel transposed on the Linen side (square shapes hide it)"
CAUGHT_BY = ("03-output-is-twice-nnx",)


@two_modules
def shared_params_two_modules(key, x, features):
    linear = nnx.Linear(x.shape[-1], features, use_bias=False, rngs=nnx.Rngs(key))
    kernel = linear.kernel[...]
    if kernel.shape[0] == kernel.shape[1]:
        kernel = kernel.T
    return linear(x) + nn.Dense(features, use_bias=False).apply({"params": {"kernel": kernel}}, x)
