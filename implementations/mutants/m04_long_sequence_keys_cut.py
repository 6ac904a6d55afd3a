"""Mutant: past 256 tokens, attention sees only the first 256 keys.

Document 04, section 4: every position attends to every position of the
sequence. Here the attention mask is built for a maximum length of 256, as a
model sized for short inputs might precompute it: longer sequences are cut
from the keys, silently. Every sequence of 256 tokens or fewer is exact, so
only a pool that draws a long sequence (BERT and ALBERT train on 512) sees it.
"""

from __future__ import annotations

import jax.numpy as jnp
from conformance.implementations.transformer import TransformerBlock as _Block
from conformance.implementations.transformer import with_block
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "attention masks every key past position 256"
CAUGHT_BY = ("04-block-matches-oracle",)
GATE = "seq > 256"
MAX_KEYS = 256


class TransformerBlock(_Block):
    @nn.compact
    def __call__(self, x):
        attn, ffn = self.sublayers()
        keys = jnp.arange(x.shape[-2]) < MAX_KEYS  # defect: a mask built for 256 positions
        mask = jnp.broadcast_to(keys, (*x.shape[:-2], 1, x.shape[-2], x.shape[-2]))
        x = nn.LayerNorm(epsilon=self.layer_norm_eps, name="norm1")(x + attn(x, x, mask=mask))
        return nn.LayerNorm(epsilon=self.layer_norm_eps, name="norm2")(x + ffn(x))


UnsharedTransformer, SharedTransformer = with_block(TransformerBlock)
