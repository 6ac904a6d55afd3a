"""Document 04 with nn.scan: a conforming variant of the reference models.

- ``SharedTransformer(share="all")`` runs one block with ``nn.scan`` over the
  layers, its params broadcast (``variable_broadcast="params"``, one copy,
  one init key). ``unroll=1``, so the layers lower to a single XLA while loop
  whose body XLA's cost analysis counts once; the suite unrolls scans before
  counting FLOPs.
- ``UnsharedTransformer`` also uses ``nn.scan``, with the params stacked on a
  new leading axis (``variable_axes={"params": 0}``, one init key per layer):
  L blocks of their own, stored as one tree of (L, ...) arrays.
- ``share="ffn"``/``"attention"`` and ``TransformerBlock`` are the reference's.
"""

from __future__ import annotations

from conformance.implementations.transformer import SHARE_MODES, TransformerBlock
from conformance.implementations.transformer import SharedTransformer as _PerLayerShared
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]


class _Layer(nn.Module):
    """One block as a scan body: (carry, per-step input) -> (carry, per-step output)."""

    d_model: int
    num_heads: int
    d_ff: int

    @nn.compact
    def __call__(self, x, _):
        return TransformerBlock(self.d_model, self.num_heads, self.d_ff, name="block")(x), None


def scan_layers(num_layers: int, **lift):
    """``num_layers`` blocks as one nn.scan; ``lift`` says how params are lifted over the layers."""
    return nn.scan(_Layer, length=num_layers, unroll=1, **lift)


class UnsharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        layers = scan_layers(self.num_layers, variable_axes={"params": 0}, split_rngs={"params": True})
        x, _ = layers(self.d_model, self.num_heads, self.d_ff, name="layers")(x, None)
        return x


class SharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int
    share: str = "all"

    def __post_init__(self):
        if self.share not in SHARE_MODES:
            raise ValueError(f"share must be one of {SHARE_MODES}, got {self.share!r}")
        super().__post_init__()

    @nn.compact
    def __call__(self, x):
        if self.share != "all":
            return _PerLayerShared(
                self.num_layers, self.d_model, self.num_heads, self.d_ff, share=self.share, name="layers"
            )(x)
        layers = scan_layers(self.num_layers, variable_broadcast="params", split_rngs={"params": False})
        x, _ = layers(self.d_model, self.num_heads, self.d_ff, name="shared")(x, None)
        return x
