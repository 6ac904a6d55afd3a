"""Flax mutant: nn.vmap never splits the params RNG."""

from flax import linen as nn

DOCUMENT = "02"
DEFECT = "nn.vmap ignores split_rngs={'params': True}"
CAUGHT_BY = ("02-fw-stacked-params-split-rngs-differ",)


def patch(mp):
    original = nn.vmap

    def vmap(target, *args, **kwargs):
        return original(target, *args, **{**kwargs, "split_rngs": {**kwargs.get("split_rngs", {}), "params": False}})

    mp.setattr(nn, "vmap", vmap)
