"""Mutant: share='all' runs the shared block at most 16 times.

Document 04, section 2: the shared block is applied at every one of the L
layers. Here the loop is capped at 16, a bound that covers the document's 12
layers and ALBERT-base's, not ALBERT-xxlarge's 24 (or any deeper stack): the
parameter count is right at every depth, and every stack of 16 layers or
fewer is exact.
"""

from __future__ import annotations

from conformance.implementations.transformer import SharedTransformer as _Reference
from conformance.implementations.transformer import TransformerBlock, UnsharedTransformer

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "share='all' applies the block min(L, 16) times"
CAUGHT_BY = ("04-shared-all-is-block-applied-l-times", "04-flops-model-is-l-blocks")
GATE = "num_layers > 16"
MAX_DEPTH = 16


class SharedTransformer(_Reference):
    def __call__(self, x):
        if self.share != "all":
            return super().__call__(x)
        for _ in range(min(self.num_layers, MAX_DEPTH)):  # defect
            x = self.shared_block(x)
        return x
