"""Flax mutant: nn.vmap with params broadcast and one init key hands back the target class unchanged.

A shortcut that holds for nn.Dense, which maps over leading axes by itself:
nn.vmap(nn.Dense, ...) still initialises and applies exactly like the document
says. A module written for one example is then never mapped.
"""

from flax import linen as nn

DOCUMENT = "02"
DEFECT = "nn.vmap(target, variable_axes={'params': None}, split_rngs={'params': False}) returns target itself"
CAUGHT_BY = ("02-fw-vmap-lifts-one-example-cell",)


def patch(mp):
    original = nn.vmap

    def vmap(target, *args, **kwargs):
        if kwargs.get("variable_axes") == {"params": None} and kwargs.get("split_rngs") == {"params": False}:
            return target
        return original(target, *args, **kwargs)

    mp.setattr(nn, "vmap", vmap)
