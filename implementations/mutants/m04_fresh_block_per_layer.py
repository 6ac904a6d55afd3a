"""Mutant: the "shared" model creates a new block for every layer.

Document 04, section 2 (Shared-Parameter Transformer Structure): "we define
only one block, Block_shared, and reuse it for every layer". Here
``SharedTransformer(share="all")`` instantiates ``TransformerBlock`` inside its
loop in ``@nn.compact``, which Flax names TransformerBlock_0 ... _{L-1}: L
blocks, L times the parameters, nothing shared. The forward pass has the right
form, so only the parameter layout gives it away.
"""

from __future__ import annotations

from conformance.implementations.transformer import SharedTransformer as _Reference
from conformance.implementations.transformer import TransformerBlock, UnsharedTransformer
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "share='all' builds a fresh TransformerBlock per loop iteration (L blocks, nothing shared)"
CAUGHT_BY = (
    "04-params-shared-all-is-one-block",
    "04-sharing-layout-by-piece",
    "04-shared-all-is-block-applied-l-times",
    "04-unshared-with-copied-block-equals-shared",
    "04-shared-grad-is-sum-of-layer-grads",
    "04-checkpoint-shrinks-by-l",
)


class SharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int
    share: str = "all"

    @nn.compact
    def __call__(self, x):
        if self.share != "all":
            return _Reference(
                self.num_layers, self.d_model, self.num_heads, self.d_ff, share=self.share, name="reference"
            )(x)
        for _ in range(self.num_layers):
            x = TransformerBlock(self.d_model, self.num_heads, self.d_ff)(x)  # defect: a new block each time
        return x
