"""Flax mutant: nn.vmap splits the params RNG whatever split_rngs says."""

from flax import linen as nn

DOCUMENT = "02"
DEFECT = "nn.vmap ignores split_rngs={'params': False}"
CAUGHT_BY = ("02-fw-broadcast-equals-plain-dense", "02-fw-stacked-params-shared-rng-identical")


def patch(mp):
    original = nn.vmap

    def vmap(target, *args, **kwargs):
        return original(target, *args, **{**kwargs, "split_rngs": {**kwargs.get("split_rngs", {}), "params": True}})

    mp.setattr(nn, "vmap", vmap)
