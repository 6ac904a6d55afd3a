"""Flax mutant: nn.vmap maps axis 0 of every input, whatever in_axes says.

The document's incantation (in_axes=0) is unaffected.
"""

from flax import linen as nn

DOCUMENT = "02"
DEFECT = "nn.vmap ignores in_axes and always maps the leading axis"
CAUGHT_BY = ("02-fw-in-axes-selects-batch-axis",)


def patch(mp):
    original = nn.vmap

    def vmap(target, *args, **kwargs):
        return original(target, *args, **{**kwargs, "in_axes": 0})

    mp.setattr(nn, "vmap", vmap)
