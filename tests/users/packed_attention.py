"""A conforming document-04 block whose attention keeps all eight of its arrays in one module.

``attention/{wq, bq, wk, bk, wv, bv, wo, bo}``: no leaf pairs with another by
structure, so the suite cannot sort them into projections by shape; the module
says which is which with PARAM_ROLES. The maths is the document's.
"""

import jax
import jax.numpy as jnp
from conformance.implementations.transformer import FFN, with_block
from conformance.implementations.transformer import TransformerBlock as _Reference
from flax import linen as nn

SHARE_MODES = ("all", "ffn", "attention")


class PackedAttention(nn.Module):
    d_model: int
    num_heads: int

    @nn.compact
    def __call__(self, x, _=None):
        d, h = self.d_model, self.num_heads
        init = nn.initializers.lecun_normal()
        w = {n: self.param(f"w{n}", init, (d, d)) for n in "qkvo"}
        b = {n: self.param(f"b{n}", nn.initializers.zeros, (d,)) for n in "qkvo"}
        bsz, s, _ = x.shape
        q, k, v = ((x @ w[n] + b[n]).reshape(bsz, s, h, d // h) for n in "qkv")
        scores = jnp.einsum("bqhd,bkhd->bhqk", q / jnp.sqrt(d // h).astype(x.dtype), k)
        mixed = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(scores, axis=-1), v).reshape(bsz, s, d)
        return mixed @ w["o"] + b["o"]


def _attention(d_model, num_heads, name=None):
    return PackedAttention(d_model, num_heads, name=name)


class TransformerBlock(_Reference):
    make_attention = staticmethod(_attention)
    make_ffn = FFN


UnsharedTransformer, SharedTransformer = with_block(TransformerBlock)

PARAM_ROLES = {
    **{f"{n}.kernel": f"attention/w{n}" for n in "qkvo"},
    **{f"{n}.bias": f"attention/b{n}" for n in "qkvo"},
    "fc1.kernel": "ffn/fc1/kernel",
    "fc1.bias": "ffn/fc1/bias",
    "fc2.kernel": "ffn/fc2/kernel",
    "fc2.bias": "ffn/fc2/bias",
    "ln1.scale": "norm1/scale",
    "ln1.bias": "norm1/bias",
    "ln2.scale": "norm2/scale",
    "ln2.bias": "norm2/bias",
}
