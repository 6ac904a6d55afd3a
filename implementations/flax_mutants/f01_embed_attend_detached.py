"""Flax mutant: nn.Embed.attend projects with a gradient-stopped copy of the table.

The logits are unchanged, so every forward check (and Flax's own attend tests,
which compare values) still passes; only the table's gradient loses its
output-projection half.
"""

import jax
import jax.numpy as jnp
from flax import linen as nn

DOCUMENT = "01"
DEFECT = "Embed.attend uses stop_gradient(embedding): a tied table learns only from the lookup side"
CAUGHT_BY = ("01-fw-embed-attend-ties-embedding",)


def patch(mp):
    def attend(self, query):
        return jnp.dot(query, jax.lax.stop_gradient(self.embedding).T)

    mp.setattr(nn.Embed, "attend", attend)
