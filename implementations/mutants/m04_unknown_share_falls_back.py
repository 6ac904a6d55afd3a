"""Mutant: an unknown share mode silently means "all".

Document 04, section 2 lists three ways to share (FFN-only, attention-only,
all-layer). A typo such as share="attn" or share="ALL" here quietly builds the
ALBERT model instead of failing, so a run could report the wrong architecture.
"""

from __future__ import annotations

from conformance.implementations.transformer import SHARE_MODES, TransformerBlock, UnsharedTransformer
from conformance.implementations.transformer import SharedTransformer as _Reference

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "SharedTransformer treats any unknown share value as 'all' instead of raising ValueError"
CAUGHT_BY = ("04-share-unknown-mode-raises",)


class SharedTransformer(_Reference):
    def setup(self):
        if self.share in SHARE_MODES:
            return super().setup()
        # defect: no ValueError; an unknown mode builds the share="all" model
        self.shared_block = TransformerBlock(self.d_model, self.num_heads, self.d_ff)

    def __call__(self, x):
        if self.share in SHARE_MODES:
            return super().__call__(x)
        for _ in range(self.num_layers):
            x = self.shared_block(x)
        return x
