"""Mutant: attention logits are not divided by sqrt(head_dim).

Document 04, section 4 (Code Implementation): ``torch.nn.MultiheadAttention``
computes softmax(q k^T / sqrt(head_dim)) v. This block passes an attention
function that skips the scaling. Parameter counts and shapes are right.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from conformance.implementations.transformer import TransformerBlock as _Reference
from conformance.implementations.transformer import with_block
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "softmax(q k^T) v without the 1/sqrt(head_dim) scaling"
CAUGHT_BY = ("04-block-matches-oracle",)


def _unscaled(query, key, value, **_):
    weights = jax.nn.softmax(jnp.einsum("...qhd,...khd->...hqk", query, key), axis=-1)  # defect: no / sqrt(d)
    return jnp.einsum("...hqk,...khd->...qhd", weights, value)


def _attention(d_model, num_heads, name=None):
    return nn.MultiHeadDotProductAttention(
        num_heads=num_heads,
        qkv_features=d_model,
        out_features=d_model,
        attention_fn=_unscaled,
        deterministic=True,
        name=name,
    )


class TransformerBlock(_Reference):
    make_attention = staticmethod(_attention)


UnsharedTransformer, SharedTransformer = with_block(TransformerBlock)
