"""Mutant: share="all" with nn.scan that stacks the parameters instead of broadcasting them.

Document 04, section 2 (Shared-Parameter Transformer Structure): one block, the
same weights at every layer. ``nn.scan(..., variable_axes={"params": 0},
split_rngs={"params": True})`` gives every iteration its own slice of an
(L, ...) parameter stack, initialised with different keys: an unshared model in
scan form. Sharing needs ``variable_broadcast="params"`` and
``split_rngs={"params": False}``.
"""

from __future__ import annotations

from conformance.implementations.transformer import SharedTransformer as _Reference
from conformance.implementations.transformer import TransformerBlock, UnsharedTransformer
from conformance.implementations.variants.scan_transformer import scan_layers
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "nn.scan with variable_axes={'params': 0} and split_rngs True: L stacked blocks, nothing shared"
CAUGHT_BY = (
    "04-params-shared-all-is-one-block",
    "04-sharing-layout-by-piece",
    "04-shared-all-is-block-applied-l-times",
    "04-unshared-with-copied-block-equals-shared",
    "04-shared-grad-is-sum-of-layer-grads",
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
        layers = scan_layers(self.num_layers, variable_axes={"params": 0}, split_rngs={"params": True})  # defect
        x, _ = layers(self.d_model, self.num_heads, self.d_ff, name="shared")(x, None)
        return x
