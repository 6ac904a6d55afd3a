"""Mutant: with more than 32 rows in the batch, the last row's output is dropped to zero.

Violates document 02, 'Shape semantics': every row is the shared Dense of its own
input, whatever the batch size. Only a large batch reaches the defect.
"""

import jax.numpy as jnp
from conformance.implementations.mutants._common import init_apply, key
from conformance.implementations.reference import VmappedDense

DOCUMENT = "02"
DEFECT = "last row zeroed when the batch has more than 32 rows"
CAUGHT_BY = ("02-forward-matches-construction",)
GATE = "batch > 32"


def nn_vmap_forward(seed, x_batch, features):
    out = init_apply(VmappedDense(features=int(features)), key(seed), x_batch)
    if out.shape[0] > 32:
        out = out.at[-1].set(0.0)
    return jnp.reshape(out, -1)
