"""Flax Linen port of the PyTorch code in 04-cross-layer-sharing-albert.md (section 4).

Block (post-LN, exactly as the document's *code* does, despite its "Pre-LN" comment):
    x = LN1(x + MHA(x, x));  x = LN2(x + FFN(x)),  FFN = Dense(d_ff) -> exact GELU -> Dense(d_model)
Defaults chosen to match PyTorch: exact (erf) GELU, LayerNorm eps=1e-5, attention with biases.

Sharing modes for SharedTransformer:
  share="all"       : one TransformerBlock applied num_layers times (ALBERT)
  share="ffn"       : one FFN shared; attention + both LayerNorms are per layer
  share="attention" : one attention shared; FFN + both LayerNorms are per layer
ScanSharedTransformer: share="all" implemented with nn.scan(variable_broadcast="params").

Parameter-count formulas (d = d_model):
  A = 4d^2 + 4d  (q,k,v,out kernels + biases);  F = 2*d*d_ff + d_ff + d;  N = 2d (one LayerNorm)
  unshared = L(A+F+2N); all = A+F+2N; ffn = L(A+2N)+F; attention = L(F+2N)+A

Run `python port.py` for a self-check (param counts via jax.eval_shape, shared==scan outputs).
"""
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np
import flax.linen as nn


class FFN(nn.Module):
    d_model: int
    d_ff: int
    approximate_gelu: bool = False  # PyTorch nn.GELU() default is exact erf GELU

    @nn.compact
    def __call__(self, x):
        x = nn.Dense(self.d_ff, name="fc1")(x)
        x = nn.gelu(x, approximate=self.approximate_gelu)
        return nn.Dense(self.d_model, name="fc2")(x)


def make_attention(d_model: int, num_heads: int, name: Optional[str] = None):
    # use_bias=True is the Flax default; stated explicitly to mirror torch in_proj_bias/out_proj.bias
    return nn.MultiHeadDotProductAttention(
        num_heads=num_heads, qkv_features=d_model, out_features=d_model,
        use_bias=True, deterministic=True, name=name)


class TransformerBlock(nn.Module):
    d_model: int
    num_heads: int
    d_ff: int
    eps: float = 1e-5                 # torch nn.LayerNorm default (Flax default is 1e-6)
    approximate_gelu: bool = False    # torch nn.GELU default (Flax nn.gelu default is True)
    shared_attention: Optional[nn.Module] = None  # pass a module to share it across blocks
    shared_ffn: Optional[nn.Module] = None

    @nn.compact
    def __call__(self, x):
        attn = self.shared_attention
        if attn is None:
            attn = make_attention(self.d_model, self.num_heads, name="attention")
        ffn = self.shared_ffn
        if ffn is None:
            ffn = FFN(self.d_model, self.d_ff, self.approximate_gelu, name="ffn")
        x = nn.LayerNorm(epsilon=self.eps, name="norm1")(x + attn(x, x))
        x = nn.LayerNorm(epsilon=self.eps, name="norm2")(x + ffn(x))
        return x


class UnsharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int
    eps: float = 1e-5
    approximate_gelu: bool = False

    @nn.compact
    def __call__(self, x):
        for i in range(self.num_layers):
            x = TransformerBlock(self.d_model, self.num_heads, self.d_ff, self.eps,
                                 self.approximate_gelu, name=f"layers_{i}")(x)
        return x


class SharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int
    share: str = "all"  # "all" | "ffn" | "attention"
    eps: float = 1e-5
    approximate_gelu: bool = False

    def setup(self):
        kw = dict(d_model=self.d_model, num_heads=self.num_heads, d_ff=self.d_ff,
                  eps=self.eps, approximate_gelu=self.approximate_gelu)
        if self.share == "all":
            self.shared_block = TransformerBlock(**kw)
        elif self.share == "ffn":
            self.ffn = FFN(self.d_model, self.d_ff, self.approximate_gelu)
            self.layers = [TransformerBlock(**kw, shared_ffn=self.ffn)
                           for _ in range(self.num_layers)]
        elif self.share == "attention":
            self.attention = make_attention(self.d_model, self.num_heads)
            self.layers = [TransformerBlock(**kw, shared_attention=self.attention)
                           for _ in range(self.num_layers)]
        else:
            raise ValueError(f"unknown share mode {self.share!r}")

    def __call__(self, x):
        if self.share == "all":
            for _ in range(self.num_layers):
                x = self.shared_block(x)
            return x
        for layer in self.layers:
            x = layer(x)
        return x


class _ScanBody(nn.Module):
    d_model: int
    num_heads: int
    d_ff: int
    eps: float = 1e-5
    approximate_gelu: bool = False

    @nn.compact
    def __call__(self, x, _):
        x = TransformerBlock(self.d_model, self.num_heads, self.d_ff, self.eps,
                             self.approximate_gelu, name="block")(x)
        return x, None


class ScanSharedTransformer(nn.Module):
    """share="all" via nn.scan: params broadcast (one copy), loop over layers.

    unroll=1 lowers to a single while loop (body appears once in HLO);
    unroll=num_layers (or True) emits straight-line code.
    """
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int
    eps: float = 1e-5
    approximate_gelu: bool = False
    unroll: int = 1

    @nn.compact
    def __call__(self, x):
        Scanned = nn.scan(_ScanBody, variable_broadcast="params",
                          split_rngs={"params": False},
                          length=self.num_layers, unroll=self.unroll)
        x, _ = Scanned(self.d_model, self.num_heads, self.d_ff, self.eps,
                       self.approximate_gelu, name="scan")(x, None)
        return x


# ---------------------------------------------------------------- helpers
def count_params(model, x_shape, dtype=jnp.float32):
    """Parameter count from jax.eval_shape (abstract; nothing is compiled or allocated)."""
    shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0),
                            jax.ShapeDtypeStruct(x_shape, dtype))
    return sum(int(np.prod(l.shape)) for l in jax.tree_util.tree_leaves(shapes["params"]))


def formula_counts(L, d, d_ff):
    A, F, N = 4 * d * d + 4 * d, 2 * d * d_ff + d_ff + d, 2 * d
    return {"block": A + F + 2 * N, "attention": A, "unshared": L * (A + F + 2 * N),
            "all": A + F + 2 * N, "ffn": L * (A + 2 * N) + F, "attention_shared": L * (F + 2 * N) + A}


def torch_block_to_flax(sd, prefix, num_heads):
    """Convert one torch TransformerBlock state_dict (numpy arrays) to Flax block params.

    torch Linear stores weight as (out, in); y = x @ W.T + b.
    nn.MultiheadAttention packs q,k,v in in_proj_weight (3d, d) / in_proj_bias (3d,).
    Flax MHA: query/key/value kernel (d, H, hd), bias (H, hd); out kernel (H, hd, d), bias (d,).
    """
    g = lambda k: np.asarray(sd[prefix + k])
    w_in, b_in = g("attention.in_proj_weight"), g("attention.in_proj_bias")
    d = w_in.shape[1]
    hd = d // num_heads
    attn = {}
    for i, nm in enumerate(("query", "key", "value")):
        W, b = w_in[i * d:(i + 1) * d], b_in[i * d:(i + 1) * d]
        attn[nm] = {"kernel": W.T.reshape(d, num_heads, hd), "bias": b.reshape(num_heads, hd)}
    attn["out"] = {"kernel": g("attention.out_proj.weight").T.reshape(num_heads, hd, d),
                   "bias": g("attention.out_proj.bias")}
    return {
        "attention": attn,
        "ffn": {"fc1": {"kernel": g("ffn.0.weight").T, "bias": g("ffn.0.bias")},
                "fc2": {"kernel": g("ffn.2.weight").T, "bias": g("ffn.2.bias")}},
        "norm1": {"scale": g("norm1.weight"), "bias": g("norm1.bias")},
        "norm2": {"scale": g("norm2.weight"), "bias": g("norm2.bias")},
    }


if __name__ == "__main__":
    L, d, h, dff = 12, 512, 8, 2048
    xs = (2, 16, d)
    ref = formula_counts(L, d, dff)
    got = {
        "unshared": count_params(UnsharedTransformer(L, d, h, dff), xs),
        "all": count_params(SharedTransformer(L, d, h, dff, share="all"), xs),
        "ffn": count_params(SharedTransformer(L, d, h, dff, share="ffn"), xs),
        "attention_shared": count_params(SharedTransformer(L, d, h, dff, share="attention"), xs),
        "scan_all": count_params(ScanSharedTransformer(L, d, h, dff), xs),
    }
    mha = jax.eval_shape(make_attention(d, h).init, jax.random.PRNGKey(0),
                         jnp.zeros(xs), jnp.zeros(xs))
    got["attention"] = sum(int(np.prod(l.shape)) for l in jax.tree_util.tree_leaves(mha))
    for k, v in got.items():
        want = ref["all" if k == "scan_all" else k]
        print(f"{k:17s} flax={v:>11,d} formula={want:>11,d} {'OK' if v == want else 'MISMATCH'}")
    # shared ("all") vs scan: identical params -> identical outputs
    Ls, ds, hs, fs = 3, 8, 2, 16
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 5, ds))
    m_loop = SharedTransformer(Ls, ds, hs, fs, share="all")
    p = m_loop.init(jax.random.PRNGKey(0), x)
    p_scan = {"params": {"scan": {"block": p["params"]["shared_block"]}}}
    y1 = m_loop.apply(p, x)
    y2 = ScanSharedTransformer(Ls, ds, hs, fs).apply(p_scan, x)
    print("loop vs scan max|diff| =", float(jnp.max(jnp.abs(y1 - y2))))
