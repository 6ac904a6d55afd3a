"""Mutant: variable_axes {'params': 0} with split_rngs False: B identical copies of one kernel.

Every copy equals the shared kernel, so every output is right; only the param
shapes show the batch axis. Violates document 02, 'Shape semantics'.
"""

from flax import linen as nn

DOCUMENT = "02"
DEFECT = "params stacked on a batch axis holding identical copies (outputs equal)"
CAUGHT_BY = ("02-params-no-batch-axis",)

VmappedDense = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": 0}, split_rngs={"params": False})
