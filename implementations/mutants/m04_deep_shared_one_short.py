"""Mutant: with four layers or more, share='all' applies the shared block one time too few.

Document 04, section 2: the shared block runs at every one of the L layers. A
code path switched on by depth (an early exit meant for deep stacks) drops the
last application only from L = 4 on; the parameter count is right at every
depth, and stacks of one to three layers (the deepest the fixed cases ever
had) are untouched, so only a pool that draws a deep stack reaches the defect.
"""

from __future__ import annotations

from conformance.implementations.transformer import SharedTransformer as _Reference
from conformance.implementations.transformer import TransformerBlock, UnsharedTransformer

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "share='all' applies the block L-1 times when L >= 4"
CAUGHT_BY = (
    "04-shared-all-is-block-applied-l-times",
    "04-unshared-with-copied-block-equals-shared",
    "04-flops-model-is-l-blocks",
    "04-flops-forward-unchanged-by-sharing",
)
GATE = "num_layers >= 4"


class SharedTransformer(_Reference):
    def __call__(self, x):
        if self.share != "all" or self.num_layers < 4:
            return super().__call__(x)
        for _ in range(self.num_layers - 1):  # defect: the deep path stops one layer early
            x = self.shared_block(x)
        return x
