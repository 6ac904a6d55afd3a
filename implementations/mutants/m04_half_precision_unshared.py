"""Mutant: the unshared stack casts its output to bfloat16 ("to save memory").

Document 04, section 4: each layer's output feeds the next and the model returns
the last one unchanged. The values are close to right (bfloat16 keeps 8 bits of
mantissa), so only the output's dtype gives it away at a glance.
"""

from __future__ import annotations

import jax.numpy as jnp
from conformance.implementations.transformer import SharedTransformer, TransformerBlock
from conformance.implementations.transformer import UnsharedTransformer as _Reference

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "UnsharedTransformer returns bfloat16 instead of the float32 it was given"
CAUGHT_BY = ("04-models-preserve-shape",)


class UnsharedTransformer(_Reference):
    def __call__(self, x):
        return super().__call__(x).astype(jnp.bfloat16)
