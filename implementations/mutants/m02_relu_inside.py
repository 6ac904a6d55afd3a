"""Mutant: the vmapped module is Dense followed by relu.

Violates document 02, 'Shape semantics': the lifted module is a plain Dense.
"""

import jax
from flax import linen as nn

DOCUMENT = "02"
DEFECT = "a relu after the Dense inside the vmapped module"
CAUGHT_BY = ("02-module-equals-plain-dense",)


class _DenseRelu(nn.Dense):
    def __call__(self, inputs):
        return jax.nn.relu(super().__call__(inputs))


VmappedDense = nn.vmap(_DenseRelu, in_axes=0, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False})
