"""Mutant: attention projections without biases.

Document 04, section 4 (Code Implementation): ``torch.nn.MultiheadAttention``
has biases on its input and output projections (in_proj_bias, out_proj.bias),
so the block holds A = 4d^2 + 4d attention parameters. This block passes
``use_bias=False`` and holds 4d^2.
"""

from __future__ import annotations

from conformance.implementations.transformer import TransformerBlock as _Reference
from conformance.implementations.transformer import with_block
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "nn.MultiHeadDotProductAttention(use_bias=False): attention holds 4d^2 instead of 4d^2+4d parameters"
CAUGHT_BY = (
    "04-params-block-is-a-f-2n",
    "04-params-unshared-is-l-blocks",
    "04-params-shared-all-is-one-block",
    "04-params-share-ffn",
    "04-params-share-attention",
    "04-sharing-layout-by-piece",
    "04-block-output-rows-normalised",
    "04-block-matches-oracle",
    "04-block-gelu-is-exact",
    "04-block-layernorm-eps-is-pytorch",
    "04-shared-all-is-block-applied-l-times",
    "04-unshared-with-copied-block-equals-shared",
)


def _attention_without_bias(d_model, num_heads, name=None):
    return nn.MultiHeadDotProductAttention(
        num_heads=num_heads, qkv_features=d_model, out_features=d_model, use_bias=False, deterministic=True, name=name
    )  # defect


class TransformerBlock(_Reference):
    make_attention = staticmethod(_attention_without_bias)


UnsharedTransformer, SharedTransformer = with_block(TransformerBlock)
