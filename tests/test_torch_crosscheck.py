"""Optional: document 04's own PyTorch code against the suite's oracle and the reference.

Skipped unless ``torch`` is importable (it is not a dependency; e.g.
``pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu``).
The document's classes are copied from its section 4, without the print calls.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from conformance.implementations.transformer import SharedTransformer, TransformerBlock, UnsharedTransformer
from conformance.properties.doc04_cross_layer.numerics import oracles, param_counts
from conformance.properties.doc04_cross_layer.params import BlockParams

torch = pytest.importorskip("torch")
tnn = torch.nn


class DocTransformerBlock(tnn.Module):
    def __init__(self, d_model: int, num_heads: int, d_ff: int):
        super().__init__()
        self.attention = tnn.MultiheadAttention(d_model, num_heads, batch_first=True)
        self.ffn = tnn.Sequential(tnn.Linear(d_model, d_ff), tnn.GELU(), tnn.Linear(d_ff, d_model))
        self.norm1 = tnn.LayerNorm(d_model)
        self.norm2 = tnn.LayerNorm(d_model)

    def forward(self, x):
        attn_output, _ = self.attention(x, x, x)
        x = self.norm1(x + attn_output)
        return self.norm2(x + self.ffn(x))


class DocUnshared(tnn.Module):
    def __init__(self, num_layers, d_model, num_heads, d_ff):
        super().__init__()
        self.layers = tnn.ModuleList([DocTransformerBlock(d_model, num_heads, d_ff) for _ in range(num_layers)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class DocShared(tnn.Module):
    def __init__(self, num_layers, d_model, num_heads, d_ff):
        super().__init__()
        self.num_layers = num_layers
        self.shared_block = DocTransformerBlock(d_model, num_heads, d_ff)

    def forward(self, x):
        for _ in range(self.num_layers):
            x = self.shared_block(x)
        return x


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_document_code_has_the_formula_counts_not_the_printed_ones():
    L, d, h, d_ff = 12, 512, 8, 2048
    unshared, shared = _count(DocUnshared(L, d, h, d_ff)), _count(DocShared(L, d, h, d_ff))
    assert (unshared, shared) == (37_828_608, 3_152_384)
    assert (unshared, shared) != (50_468_352, 4_205_824)  # the document's printed figures
    assert _count(DocTransformerBlock(d, h, d_ff)) == param_counts.block_params(d, d_ff)


def _to_suite(block: DocTransformerBlock, heads: int) -> BlockParams:
    """torch weights in the suite's layout (Flax MHA: (d, H, hd) q/k/v kernels, (H, hd, d) out kernel)."""
    g = {k: v.detach().double().numpy() for k, v in block.state_dict().items()}
    w, b = g["attention.in_proj_weight"], g["attention.in_proj_bias"]
    d = w.shape[1]
    hd = d // heads
    proj = {
        n: (w[i * d : (i + 1) * d].T.reshape(d, heads, hd), b[i * d : (i + 1) * d].reshape(heads, hd))
        for i, n in enumerate(("query", "key", "value"))
    }
    return BlockParams(
        **proj,
        out=(g["attention.out_proj.weight"].T.reshape(heads, hd, d), g["attention.out_proj.bias"]),
        fc1=(g["ffn.0.weight"].T, g["ffn.0.bias"]),
        fc2=(g["ffn.2.weight"].T, g["ffn.2.bias"]),
        norm1=(g["norm1.weight"], g["norm1.bias"]),
        norm2=(g["norm2.weight"], g["norm2.bias"]),
    )


def _to_reference(values: BlockParams) -> dict:
    f = lambda pair, a="kernel": {a: np.float32(pair[0]), "bias": np.float32(pair[1])}  # noqa: E731
    return {
        "attention": {n: f(getattr(values, n)) for n in ("query", "key", "value", "out")},
        "ffn": {"fc1": f(values.fc1), "fc2": f(values.fc2)},
        "norm1": f(values.norm1, "scale"),
        "norm2": f(values.norm2, "scale"),
    }


@pytest.mark.parametrize("L,d,h,d_ff", [(3, 8, 2, 16), (2, 4, 1, 6)])
def test_oracle_and_reference_match_the_document_code(L, d, h, d_ff):
    torch.manual_seed(0)
    shared = DocShared(L, d, h, d_ff).eval()
    with torch.no_grad():  # move LayerNorms off their 1/0 init so both are tested
        for p in shared.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x = np.random.default_rng(0).standard_normal((2, 5, d)).astype(np.float32)
    with torch.no_grad():
        want = shared(torch.from_numpy(x)).numpy()
    values = _to_suite(shared.shared_block, h)
    expected, tol = oracles.stack(x, values, L)
    assert (np.abs(want - expected) <= tol.bound).all()
    block = _to_reference(values)
    got = np.asarray(SharedTransformer(L, d, h, d_ff).apply({"params": {"shared_block": block}}, x))
    np.testing.assert_allclose(got, want, atol=1e-5)
    layers = {f"layers_{i}": block for i in range(L)}
    got = np.asarray(UnsharedTransformer(L, d, h, d_ff).apply({"params": layers}, x))
    np.testing.assert_allclose(got, want, atol=1e-5)
    one = np.asarray(TransformerBlock(d, h, d_ff).apply({"params": block}, x))
    with torch.no_grad():
        np.testing.assert_allclose(one, shared.shared_block(torch.from_numpy(x)).numpy(), atol=1e-5)
    assert jax.tree_util.tree_structure(block) == jax.tree_util.tree_structure(
        jax.eval_shape(TransformerBlock(d, h, d_ff).init, jax.random.PRNGKey(0), x)["params"]
    )
