"""Document 04's architecture built by the suite from Flax's own modules.

Used by framework properties (what Flax and XLA do with this architecture)
and to measure float32 gradient drift (:mod:`.numerics.drift`); implementations
are never compared against it by key names.
It follows the document's PyTorch code with PyTorch's defaults set explicitly:
nn.MultiHeadDotProductAttention with biases, Dense(d_ff) -> exact GELU ->
Dense(d_model), LayerNorm eps 1e-5, post-LN.
"""

from __future__ import annotations

import functools

import numpy as np
from flax import linen as nn

from conformance.kit.compiled import abstract_init
from conformance.kit.trees import is_map

from .numerics.nonlinearities import PYTORCH_LAYER_NORM_EPS
from .params import BlockParams


class DocBlock(nn.Module):
    d_model: int
    num_heads: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        attn = nn.MultiHeadDotProductAttention(
            num_heads=self.num_heads,
            qkv_features=self.d_model,
            out_features=self.d_model,
            use_bias=True,
            deterministic=True,
            name="attention",
        )
        x = nn.LayerNorm(epsilon=PYTORCH_LAYER_NORM_EPS, name="norm1")(x + attn(x, x))
        h = nn.Dense(self.d_ff, name="fc1")(x)
        h = nn.Dense(self.d_model, name="fc2")(nn.gelu(h, approximate=False))
        return nn.LayerNorm(epsilon=PYTORCH_LAYER_NORM_EPS, name="norm2")(x + h)


class DocUnshared(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        for i in range(self.num_layers):
            x = DocBlock(self.d_model, self.num_heads, self.d_ff, name=f"layers_{i}")(x)
        return x


class DocShared(nn.Module):
    """The document's SharedTransformer: one block, called in a Python loop."""

    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int

    def setup(self):
        self.shared_block = DocBlock(self.d_model, self.num_heads, self.d_ff)

    def __call__(self, x):
        for _ in range(self.num_layers):
            x = self.shared_block(x)
        return x


class _ScanBody(nn.Module):
    d_model: int
    num_heads: int
    d_ff: int

    @nn.compact
    def __call__(self, x, _):
        return DocBlock(self.d_model, self.num_heads, self.d_ff, name="block")(x), None


class DocScanShared(nn.Module):
    """The same sharing through nn.scan with the params broadcast (one copy), not unrolled."""

    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        scan = nn.scan(_ScanBody, variable_broadcast="params", split_rngs={"params": False}, length=self.num_layers)
        return scan(self.d_model, self.num_heads, self.d_ff, name="layers")(x, None)[0]


@functools.cache
def _doc_block_shapes(dims: tuple[int, int, int]) -> dict:
    return abstract_init(DocBlock(*dims), (1, 2, dims[0]))["params"]


def doc_block_params(values: BlockParams) -> dict:
    """DocBlock's params holding ``values`` (float32): the suite's layout is Flax's, piece for piece."""
    d, d_ff = values.fc1[0].shape
    shapes = _doc_block_shapes((int(d), values.heads, int(d_ff)))

    def pair(names: tuple[str, str], arrays: tuple[np.ndarray, np.ndarray]) -> dict:
        return dict(zip(names, arrays))

    tree = {
        "attention": {n: pair(("kernel", "bias"), getattr(values, n)) for n in ("query", "key", "value", "out")},
        **{n: pair(("kernel", "bias"), getattr(values, n)) for n in ("fc1", "fc2")},
        **{n: pair(("scale", "bias"), getattr(values, n)) for n in ("norm1", "norm2")},
    }
    return _fill(tree, shapes)


def doc_block_values(tree: dict) -> BlockParams:
    """The inverse of :func:`doc_block_params`: a DocBlock params (or gradient) tree as float64 BlockParams."""

    def pair(node: dict, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
        return tuple(np.asarray(node[n], np.float64) for n in names)

    return BlockParams(
        **{n: pair(tree["attention"][n], ("kernel", "bias")) for n in ("query", "key", "value", "out")},
        **{n: pair(tree[n], ("kernel", "bias")) for n in ("fc1", "fc2")},
        **{n: pair(tree[n], ("scale", "bias")) for n in ("norm1", "norm2")},
    )


def _fill(values: dict, shapes: dict) -> dict:
    return {
        k: _fill(values[k], v) if is_map(v) else np.asarray(values[k], np.float32).reshape(v.shape)
        for k, v in shapes.items()
    }
