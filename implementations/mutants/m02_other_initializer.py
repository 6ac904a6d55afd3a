"""Mutant: the vmapped Dense draws its kernel from a plain normal(1/sqrt(in)) initializer.

lecun_normal is a truncated normal of the same variance, so statistics look right.
Violates document 02, 'The canonical incantation' (nn.vmap over nn.Dense as is).
"""

import functools

from flax import linen as nn

DOCUMENT = "02"
DEFECT = "kernel from variance_scaling(1, fan_in, 'normal') instead of Dense's truncated-normal default"
CAUGHT_BY = ("02-params-independent-of-batch",)

VmappedDense = nn.vmap(
    functools.partial(nn.Dense, kernel_init=nn.initializers.variance_scaling(1.0, "fan_in", "normal")),
    in_axes=0,
    out_axes=0,
    variable_axes={"params": None},
    split_rngs={"params": False},
)
