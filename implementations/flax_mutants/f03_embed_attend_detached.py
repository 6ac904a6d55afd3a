"""Flax mutant: nnx.Embed.attend reads its table through stop_gradient (same logits, no gradient to the table)."""

import jax
import jax.numpy as jnp
from flax import nnx

DOCUMENT = "03"
DEFECT = "nnx.Embed.attend passes no gradient to the embedding table"
CAUGHT_BY = ("03-fw-tied-embedding-one-table",)


def patch(mp):
    def attend(self, query):
        return jnp.dot(query, jax.lax.stop_gradient(self.embedding[...]).T)

    mp.setattr(nnx.Embed, "attend", attend)
