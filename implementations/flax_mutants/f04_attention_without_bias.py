"""Flax mutant: MultiHeadDotProductAttention has no biases by default."""

from flax import linen as nn

DOCUMENT = "04"
DEFECT = "nn.MultiHeadDotProductAttention defaults to use_bias=False"
CAUGHT_BY = ("04-fw-block-params-formula",)


def patch(mp):
    class MultiHeadDotProductAttention(nn.MultiHeadDotProductAttention):
        use_bias: bool = False

    mp.setattr(nn, "MultiHeadDotProductAttention", MultiHeadDotProductAttention)
