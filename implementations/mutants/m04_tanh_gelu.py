"""Mutant: the FFN uses Flax's default GELU, the tanh approximation.

Document 04, section 4 (Code Implementation): the document's FFN is
``nn.Linear -> nn.GELU() -> nn.Linear`` in PyTorch, whose GELU is exact (erf).
``flax.linen.gelu`` defaults to ``approximate=True``; this block keeps that
default. Outputs move by up to ~1e-4, inside a worst-case rounding bound for a
whole block, so only a probe that isolates the GELU sees it.
"""

from __future__ import annotations

from conformance.implementations.transformer import FFN, with_block
from conformance.implementations.transformer import TransformerBlock as _Reference
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "nn.gelu with its default approximate=True (tanh) instead of PyTorch's exact GELU"
CAUGHT_BY = ("04-block-gelu-is-exact",)


class _TanhFFN(FFN):
    @nn.compact
    def __call__(self, x):
        x = nn.Dense(self.d_ff, name="fc1")(x)
        x = nn.gelu(x)  # defect: Flax's default is the tanh approximation
        return nn.Dense(self.d_model, name="fc2")(x)


class TransformerBlock(_Reference):
    make_ffn = _TanhFFN


UnsharedTransformer, SharedTransformer = with_block(TransformerBlock)
