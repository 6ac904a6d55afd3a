"""Mutant: past 32 sequences, the batch is attended to as one long sequence.

Document 04, section 4: attention mixes positions within each sequence of the
batch. Here a "large batch" path flattens the batch into one sequence before
attention, so every token also attends to the other sequences' tokens. With 32
sequences or fewer the block is exact; pretraining batches are larger.
"""

from __future__ import annotations

from conformance.implementations.transformer import TransformerBlock as _Block
from conformance.implementations.transformer import with_block
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "above 32 sequences, attention runs over the whole batch as one sequence"
CAUGHT_BY = ("04-block-matches-oracle",)
GATE = "batch > 32"


class TransformerBlock(_Block):
    @nn.compact
    def __call__(self, x):
        attn, ffn = self.sublayers()
        if x.shape[0] > 32:  # defect: the batch flattened into one sequence
            flat = x.reshape(1, -1, x.shape[-1])
            a = attn(flat, flat).reshape(x.shape)
        else:
            a = attn(x, x)
        x = nn.LayerNorm(epsilon=self.layer_norm_eps, name="norm1")(x + a)
        return nn.LayerNorm(epsilon=self.layer_norm_eps, name="norm2")(x + ffn(x))


UnsharedTransformer, SharedTransformer = with_block(TransformerBlock)
