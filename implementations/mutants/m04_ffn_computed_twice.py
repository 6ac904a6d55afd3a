"""Mutant: the FFN's first projection is computed twice and averaged.

Document 04, section 3: the FFN of one layer costs about 4 B S d_model d_ff
FLOPs in its two matmuls. Here fc1 runs twice on the same input and the two
results are averaged: the output is the same (up to rounding), the parameters
are the same, and sharing still leaves the FLOPs unchanged, but every layer
does half as much work again in its FFN.
"""

from __future__ import annotations

from conformance.implementations.transformer import FFN as _FFN
from conformance.implementations.transformer import TransformerBlock as _Block
from conformance.implementations.transformer import with_block
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "the FFN computes Dense(d_ff) twice and averages (3 matmuls' worth of FLOPs, not 2)"
CAUGHT_BY = ("04-flops-ffn-is-4bsd-dff",)


class FFN(_FFN):
    @nn.compact
    def __call__(self, x):
        fc1 = nn.Dense(self.d_ff, name="fc1")
        h = 0.5 * (fc1(x) + fc1(x))  # defect: the same matmul twice
        return nn.Dense(self.d_model, name="fc2")(nn.gelu(h, approximate=False))


class TransformerBlock(_Block):
    make_ffn = FFN


UnsharedTransformer, SharedTransformer = with_block(TransformerBlock)
