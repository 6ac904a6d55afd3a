"""Flax mutant: nn.LayerNorm defaults to PyTorch's epsilon, 1e-5."""

from flax import linen as nn

DOCUMENT = "04"
DEFECT = "nn.LayerNorm defaults to epsilon=1e-5"
CAUGHT_BY = ("04-fw-layernorm-default-eps",)


def patch(mp):
    class LayerNorm(nn.LayerNorm):
        epsilon: float = 1e-5

    mp.setattr(nn, "LayerNorm", LayerNorm)
