"""Flax mutant: nn.Dense has no bias unless asked for one."""

from flax import linen as nn

DOCUMENT = "01"
DEFECT = "nn.Dense defaults to use_bias=False"
CAUGHT_BY = ("01-fw-inline-dense-not-shared",)


def patch(mp):
    class Dense(nn.Dense):
        use_bias: bool = False

    mp.setattr(nn, "Dense", Dense)
