"""Flax mutant: nn.gelu defaults to the exact (erf) form."""

import functools

import jax
from flax import linen as nn

DOCUMENT = "04"
DEFECT = "nn.gelu defaults to approximate=False"
CAUGHT_BY = ("04-fw-gelu-default-is-tanh",)


def patch(mp):
    mp.setattr(nn, "gelu", functools.partial(jax.nn.gelu, approximate=False))
