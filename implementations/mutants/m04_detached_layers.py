"""Mutant: layers 2..L run a detached copy of the shared block's parameters.

Document 04, section 2 (the weights within Block_shared are the same for all
layers) and the ALBERT point of sharing: one set of weights trained by every
layer. Here the first layer calls the shared block and the others apply the
same block to ``stop_gradient`` of its parameters: the forward pass is exactly
the reference's, but only layer 1 contributes to the gradient.
"""

from __future__ import annotations

import jax
from conformance.implementations.transformer import SharedTransformer as _Reference
from conformance.implementations.transformer import TransformerBlock, UnsharedTransformer

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "layers after the first use stop_gradient(shared params): forward right, gradient has one layer's term"
CAUGHT_BY = ("04-shared-grad-is-sum-of-layer-grads", "04-flops-backward-no-saving")


class SharedTransformer(_Reference):
    def __call__(self, x):
        if self.share != "all":
            return super().__call__(x)
        x = self.shared_block(x)
        frozen = jax.lax.stop_gradient(self.shared_block.variables["params"])  # defect
        block = TransformerBlock(self.d_model, self.num_heads, self.d_ff, parent=None)  # a free-standing copy
        for _ in range(self.num_layers - 1):
            x = block.apply({"params": frozen}, x)
        return x
