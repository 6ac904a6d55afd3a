"""Mutant: with more than 8 heads, the attention scores are scaled by 1/sqrt(d_model/8).

Document 04, section 4: scores are q.k / sqrt(head_dim). A port written for
at most 8 heads (the document's configuration) computes the scale from
d_model / 8; with 8 heads or fewer that is the head size only when heads = 8,
so here the wrong scale is applied only above 8 heads, as a code path for
"many heads" would. BERT-base and ALBERT-base run 12.
"""

from __future__ import annotations

import jax.numpy as jnp
from conformance.implementations.transformer import TransformerBlock as _Block
from conformance.implementations.transformer import attention as _attention
from conformance.implementations.transformer import with_block
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "above 8 heads, scores are scaled by 1/sqrt(d_model/8), not 1/sqrt(head_dim)"
CAUGHT_BY = ("04-block-matches-oracle",)
GATE = "num_heads > 8"


def attention(d_model: int, num_heads: int, name: str | None = None) -> nn.Module:
    if num_heads <= 8:
        return _attention(d_model, num_heads, name)

    def misscaled(query, key, value, **kwargs):
        # dot_product_attention divides by sqrt(head_dim); the defect divides by sqrt(d_model / 8) instead.
        query = query * jnp.sqrt(8.0 / num_heads).astype(query.dtype)
        return nn.dot_product_attention(query, key, value, **kwargs)

    return nn.MultiHeadDotProductAttention(
        num_heads=num_heads, qkv_features=d_model, out_features=d_model, use_bias=True, deterministic=True,
        attention_fn=misscaled, name=name,
    )  # fmt: skip


class TransformerBlock(_Block):
    make_attention = staticmethod(attention)


UnsharedTransformer, SharedTransformer = with_block(TransformerBlock)
