"""Flax mutant: nn.LayerNorm has neither scale nor bias by default."""

from flax import linen as nn

DOCUMENT = "04"
DEFECT = "nn.LayerNorm defaults to use_scale=False, use_bias=False"
CAUGHT_BY = ("04-fw-block-params-formula", "04-fw-shared-backward-pays-accumulation")


def patch(mp):
    class LayerNorm(nn.LayerNorm):
        use_scale: bool = False
        use_bias: bool = False

    mp.setattr(nn, "LayerNorm", LayerNorm)
