"""Weight tying, document 03's first use case: one (vocab, d) table looked up as the embedding and
reused, transposed, as the output projection. The inputs and the two tied models (their float64
oracle is :func:`.oracles.tied_lm`).

The loss is sum(W * logits) for a fixed weight matrix W, so that every logit
has its own cotangent and the two uses of the table get different gradients.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from flax import nnx

from conformance.kit import strategies as cst

TOKENS = 5  # sequence length: one shape per (vocab, d)


def inputs(data_seed: int, vocab: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(table (vocab, d), tokens (TOKENS,), loss weights (TOKENS, vocab)), all from one seed."""
    tokens = np.random.default_rng(data_seed).integers(0, vocab, TOKENS).astype(np.int32)
    return cst.normal_array(data_seed, (vocab, d)), tokens, cst.normal_array(data_seed + 1, (TOKENS, vocab))


# --- the two tied models ---------------------------------------------------------------


class TiedLM(nnx.Module):
    """An nnx.Embed for the lookup and a second nnx.Embed, whose table is the first one's Param, as the head."""

    def __init__(self, vocab: int, d: int, rngs: nnx.Rngs):
        self.embed = nnx.Embed(vocab, d, rngs=rngs)
        self.head = nnx.Embed(vocab, d, rngs=rngs)
        self.head.embedding = self.embed.embedding  # the same Variable object, referenced twice

    def __call__(self, tokens):
        return self.head.attend(self.embed(tokens))


@functools.cache
def _abstract_tied_lm(vocab: int, d: int):
    return nnx.split(nnx.eval_shape(lambda: TiedLM(vocab, d, nnx.Rngs(0))))


def tied_lm(vocab: int, d: int) -> TiedLM:
    """A new TiedLM built abstractly (traced once per shape, nothing compiled): the property points its one
    table at an array."""
    graphdef, state = _abstract_tied_lm(vocab, d)
    return nnx.merge(graphdef, jax.tree_util.tree_map(lambda leaf: leaf, state))  # new Variables every time


def _weighted_sum(model, tokens, weights):
    logits = model(tokens)
    return jnp.sum(weights * logits), logits


class CrossFrameworkLM:
    """A Linen nn.Embed lookup and an nnx.Embed head, both pointed at one table passed in as an array."""

    def __init__(self, vocab: int, d: int):
        self.embed = nn.Embed(vocab, d)
        self.head_def, self.head_state = nnx.split(nnx.eval_shape(lambda: nnx.Embed(vocab, d, rngs=nnx.Rngs(0))))

    def weighted_sum(self, table, tokens, weights):
        hidden = self.embed.apply({"params": {"embedding": table}}, tokens)  # Linen reads the table
        head = nnx.merge(self.head_def, self.head_state)
        head.embedding = nnx.Param(table)  # nnx points at the same array
        logits = head.attend(hidden)
        return jnp.sum(weights * logits), logits


@functools.cache
def logits_and_grads(vocab: int, d: int):
    """Both tied models in one program (one compilation per shape):
    (nnx logits, nnx gradient state) of sum(W * TiedLM(t)) by nnx.value_and_grad with its default filter, and
    (logits, dL/dE) of the cross-framework model by jax.value_and_grad over the table."""
    cross = CrossFrameworkLM(vocab, d)

    def run(model, table, tokens, weights):
        (_, nnx_logits), nnx_grads = nnx.value_and_grad(_weighted_sum, has_aux=True)(model, tokens, weights)
        (_, cross_logits), cross_grad = jax.value_and_grad(cross.weighted_sum, has_aux=True)(table, tokens, weights)
        return nnx_logits, nnx_grads, cross_logits, cross_grad

    return nnx.jit(run)
