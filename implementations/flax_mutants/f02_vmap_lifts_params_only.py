"""Flax mutant: nn.vmap honours variable_axes and split_rngs for 'params' only.

Every other collection is broadcast and every other RNG stream shared across
the batch, whatever the call asks for; the params, which every Dense example
uses, behave as documented.
"""

from flax import linen as nn

DOCUMENT = "02"
DEFECT = "nn.vmap broadcasts every collection but 'params' and never splits an RNG other than 'params'"
CAUGHT_BY = ("02-fw-vmap-batch-stats-per-example-or-shared", "02-fw-vmap-splits-dropout-keeps-params")


def patch(mp):
    original = nn.vmap

    def vmap(target, *args, **kwargs):
        axes = {name: (axis if name == "params" else None) for name, axis in kwargs.get("variable_axes", {}).items()}
        split = {name: (value if name == "params" else False) for name, value in kwargs.get("split_rngs", {}).items()}
        return original(target, *args, **{**kwargs, "variable_axes": axes, "split_rngs": split})

    mp.setattr(nn, "vmap", vmap)
