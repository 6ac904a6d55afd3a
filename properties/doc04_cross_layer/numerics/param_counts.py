"""Document 04's parameter-count formulas: A (attention), F (FFN), N (one LayerNorm) per block."""

from __future__ import annotations


def attention_params(d: int) -> int:
    """A: q, k, v and out kernels (d*d each) and biases (d each)."""
    return 4 * d * d + 4 * d


def ffn_params(d: int, d_ff: int) -> int:
    """F: Linear(d, d_ff) and Linear(d_ff, d) with biases."""
    return 2 * d * d_ff + d_ff + d


def norm_params(d: int) -> int:
    """N: one LayerNorm, scale and bias."""
    return 2 * d


def block_params(d: int, d_ff: int) -> int:
    return attention_params(d) + ffn_params(d, d_ff) + 2 * norm_params(d)


def model_params(share: str | None, num_layers: int, d: int, d_ff: int) -> int:
    """Parameters of the unshared model (``share=None``) or of a sharing mode."""
    a, f, n, L = attention_params(d), ffn_params(d, d_ff), norm_params(d), num_layers
    return {
        None: L * (a + f + 2 * n),
        "all": a + f + 2 * n,
        "ffn": L * (a + 2 * n) + f,
        "attention": a + L * (f + 2 * n),
    }[share]


def formula_note(d: int, d_ff: int) -> str:
    """The formulas with their values at (d, d_ff), for failure messages."""
    return (
        f"A = 4d^2+4d = {attention_params(d)}, F = 2 d d_ff + d_ff + d = {ffn_params(d, d_ff)}, "
        f"N = 2d = {norm_params(d)} (d={d}, d_ff={d_ff})"
    )
