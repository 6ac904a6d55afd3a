"""Mutant: LayerNorms keep Flax's default epsilon, 1e-6.

Document 04, section 4 (Code Implementation): the document's ``nn.LayerNorm``
is PyTorch's, eps 1e-5. ``flax.linen.LayerNorm`` defaults to 1e-6. On rows of
unit variance the outputs differ by ~1e-5 relative; on rows of variance ~eps by
tens of percent.
"""

from __future__ import annotations

from conformance.implementations.transformer import TransformerBlock as _Reference
from conformance.implementations.transformer import with_block

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "nn.LayerNorm() with Flax's default epsilon 1e-6 instead of PyTorch's 1e-5"
CAUGHT_BY = ("04-block-layernorm-eps-is-pytorch",)


class TransformerBlock(_Reference):
    layer_norm_eps = 1e-6  # defect: Flax's default, not PyTorch's 1e-5


UnsharedTransformer, SharedTransformer = with_block(TransformerBlock)
