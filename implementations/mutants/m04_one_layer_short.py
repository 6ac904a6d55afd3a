"""Mutant: the shared block is applied L-1 times (at least once).

Document 04, section 2: h_l = Block_shared(h_{l-1}) for l = 1..L, and section
3: "the actual matrix multiplications must still be executed at each of the L
layers". An off-by-one loop (``range(1, num_layers)``) runs one block too few;
the parameter count is still right.
"""

from __future__ import annotations

from conformance.implementations.transformer import SharedTransformer as _Reference
from conformance.implementations.transformer import TransformerBlock, UnsharedTransformer

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "share='all' applies the block max(L-1, 1) times instead of L"
CAUGHT_BY = (
    "04-shared-all-is-block-applied-l-times",
    "04-unshared-with-copied-block-equals-shared",
    "04-flops-model-is-l-blocks",
    "04-shared-grad-is-sum-of-layer-grads",
    "04-flops-forward-unchanged-by-sharing",
    "04-flops-backward-no-saving",
)


class SharedTransformer(_Reference):
    def __call__(self, x):
        if self.share != "all":
            return super().__call__(x)
        for _ in range(max(self.num_layers - 1, 1)):  # defect: one layer short
            x = self.shared_block(x)
        return x
