"""Document 04, framework: what Flax itself does with the document's block (parameter layout, defaults)."""

from __future__ import annotations

import functools

import jax
import numpy as np
from flax import linen as nn
from hypothesis import example, given

from conformance.engine.registry import conformance_property
from conformance.kit import strategies as cst
from conformance.kit import trees
from conformance.kit.assertions import assert_close
from conformance.kit.compiled import abstract_init, fast_jit
from conformance.kit.tolerances import MARGIN, Tolerance, unit_roundoff

from . import DOCUMENT, Section, probes
from . import strategies as dst
from .constructions import DocBlock, DocShared, DocUnshared
from .numerics import oracles, param_counts
from .numerics.nonlinearities import gelu_exact, gelu_tanh

# --- what Flax and XLA do (framework properties) -------------------------------------------


def _doc_count(model, d: int) -> int:
    shapes = abstract_init(model, (1, 2, d))
    return trees.count_parameters(shapes["params"])[0]


_doc_count_cached = functools.cache(lambda cls, args: _doc_count(cls(*args), args[-3]))


@functools.cache
def _mha_count(d: int, heads: int) -> int:
    mha = nn.MultiHeadDotProductAttention(num_heads=heads, qkv_features=d, out_features=d)
    return trees.count_parameters(abstract_init(mha, (1, 2, d), (1, 2, d))["params"])[0]


@conformance_property(
    "04-fw-block-params-formula",
    document=DOCUMENT,
    section=Section.PARAMETER_COUNT,
    title="The document's block built from Flax modules (MultiHeadDotProductAttention with biases, 2 Dense, 2 LayerNorm) "
    "holds A+F+2N parameters; at d=512, 8 heads, d_ff=2048, L=12 that is 3,152,384 shared, 37,828,608 unshared",
    hint="The document prints 4,205,824 and 50,468,352 for that configuration; neither follows from its code, and "
    "50,468,352 is not 12 x 4,205,824. If this fails, Flax's attention or LayerNorm parameter layout changed.",
)
@given(num_layers=dst.layer_counts(), d_model=dst.d_models(), num_heads=dst.head_counts(), d_ff=dst.d_ffs())
@example(num_layers=dst.DOC_LAYERS, d_model=dst.DOC_D_MODEL, num_heads=dst.DOC_HEADS, d_ff=dst.DOC_D_FF)
def test_fw_block_params_formula(num_layers, d_model, num_heads, d_ff):
    dims = (d_model, num_heads, d_ff)
    n_mha = _mha_count(d_model, num_heads)
    assert n_mha == param_counts.attention_params(d_model), (
        f"Flax MHA(d={d_model}, heads={num_heads}) has {n_mha:,} params, expected 4d^2+4d = {param_counts.attention_params(d_model):,}"
    )
    block = _doc_count_cached(DocBlock, dims)
    shared = _doc_count_cached(DocShared, (num_layers, *dims))
    unshared = _doc_count_cached(DocUnshared, (num_layers, *dims))
    want = param_counts.block_params(d_model, d_ff)
    assert (block, shared, unshared) == (want, want, num_layers * want), (
        f"block/shared/unshared = {block:,}/{shared:,}/{unshared:,}, expected {want:,}/{want:,}/{num_layers * want:,}; "
        f"{param_counts.formula_note(d_model, d_ff)}"
    )


@functools.cache
def _flax_gelu_default():
    return fast_jit(lambda x: nn.gelu(x))


@functools.cache
def _flax_layer_norm_default(d: int):
    ln = nn.LayerNorm()
    # init and apply in one jitted call: eager init would compile each primitive per width.
    return fast_jit(lambda x: ln.apply(ln.init(jax.random.PRNGKey(0), x), x))


@conformance_property(
    "04-fw-gelu-default-is-tanh",
    document=DOCUMENT,
    section=Section.CODE,
    title="Flax's nn.gelu defaults to the tanh approximation, up to ~4.7e-4 away from PyTorch's exact nn.GELU()",
    hint="A port that wants the document's (PyTorch's) numbers must pass approximate=False. If this fails, "
    "Flax changed nn.gelu's default.",
)
@given(data_seed=cst.data_seeds())
def test_fw_gelu_default_is_tanh(data_seed):
    x = np.concatenate([cst.normal_array(data_seed, (64,), 2.0), probes.GELU_PROBE.astype(np.float32)])
    got = np.asarray(_flax_gelu_default()(x), np.float64)
    tanh, exact = gelu_tanh(x), gelu_exact(x)
    tol = Tolerance(
        bound=MARGIN * 8 * unit_roundoff() * (np.abs(tanh) + np.abs(x)),
        derivation=f"{MARGIN:g} x 8 u (|gelu| + |x|) for a few elementwise float32 ops",
    )
    assert_close(got, tanh, tol, what="nn.gelu(x) with default arguments against the tanh formula")
    gap = float(np.abs(tanh - exact).max())
    assert 1e-4 < gap < 5e-4, (
        f"max |tanh GELU - exact GELU| over the sample is {gap:.3g}, expected between 1e-4 and 5e-4"
    )


@conformance_property(
    "04-fw-layernorm-default-eps",
    document=DOCUMENT,
    section=Section.CODE,
    title="Flax's nn.LayerNorm defaults to eps 1e-6, not PyTorch's 1e-5; on rows of variance 1e-5 that changes the output by ~35%",
    hint="A port that wants the document's numbers must pass epsilon=1e-5. If this fails, Flax changed the default.",
)
@given(data_seed=cst.data_seeds(), d_model=dst.pooled_d_models(minimum=2))
def test_fw_layernorm_default_eps(data_seed, d_model):
    x = cst.normal_array(data_seed, (4, d_model)) * np.float32(10**-2.5)
    x = x - x.mean(-1, keepdims=True)
    got = np.asarray(_flax_layer_norm_default(d_model)(x), np.float64)
    (flax_eps, tol), (torch_eps, _) = oracles.layer_norm(x, 1e-6), oracles.layer_norm(x, 1e-5)
    assert_close(got, flax_eps, tol, what="nn.LayerNorm() output against LayerNorm with eps 1e-6")
    ratio = float(np.abs(flax_eps).max() / np.abs(torch_eps).max())
    assert ratio > 1.05, (
        f"eps 1e-6 and 1e-5 differ by a factor {ratio:.4f} on this input, expected a visible difference"
    )
