"""Document 03, framework: weight tying, one (vocab, d) table as embedding and output projection."""

from __future__ import annotations

import jax
import numpy as np
from flax import nnx
from hypothesis import given

from conformance.engine.registry import conformance_property
from conformance.kit import strategies as cst
from conformance.kit.assertions import assert_close
from conformance.kit.nnx_compat import replace_value

from . import DOCUMENT, Section, oracles, tying


@conformance_property(
    "03-fw-tied-embedding-one-table",
    document=DOCUMENT,
    section=Section.WHY_SHARE,
    title="One (vocab, d) table serves as embedding and output head, within nnx (one Param referenced by two "
    "nnx.Embed: one state leaf, one object after split/merge) and across frameworks (Linen lookup, nnx head): "
    "logits E[t] E^T, and a gradient that sums both uses",
    hint="nnx tracks Variables by identity: a Param referenced twice must stay one leaf and collect both gradients. "
    "If a gradient misses a use, a module detaches the table (stop_gradient in nnx.Embed.attend, say) or copies it.",
)
@given(shape=cst.vector_shapes(), data_seed=cst.data_seeds())
def test_fw_tied_embedding_one_table(shape, data_seed):
    vocab, d = shape
    table, tokens, weights = tying.inputs(data_seed, vocab, d)
    model = tying.tied_lm(vocab, d)
    assert model.head.embedding is model.embed.embedding, (
        "the head's table is not the embedding's Param after construction"
    )
    replace_value(model.embed.embedding, jax.device_put(table))  # through one reference: the other must see it
    leaves = jax.tree_util.tree_leaves(nnx.state(model, nnx.Param))
    assert [np.shape(v) for v in leaves] == [(vocab, d)], (
        f"nnx.state(model, nnx.Param) holds leaves of shapes {[np.shape(v) for v in leaves]}, expected one ({vocab}, {d}) table"
    )
    rebuilt = nnx.merge(*nnx.split(model))
    assert rebuilt.head.embedding is rebuilt.embed.embedding, (
        "after nnx.split/nnx.merge the head and the embedding hold two Params"
    )

    nnx_logits, nnx_grads, cross_logits, cross_grad = tying.logits_and_grads(vocab, d)(model, table, tokens, weights)
    want_logits, want_grad, logits_tol, grad_tol = oracles.tied_lm(table, tokens, weights)
    grad_leaves = jax.tree_util.tree_leaves(nnx_grads)
    assert len(grad_leaves) == 1, (
        f"the nnx gradient holds {len(grad_leaves)} leaves, expected one for the one tied table"
    )
    for where, logits, grad in (
        ("nnx (nnx.Embed lookup, tied nnx.Embed head)", nnx_logits, grad_leaves[0]),
        ("across frameworks (Linen nn.Embed lookup, nnx.Embed head)", cross_logits, cross_grad),
    ):
        assert_close(logits, want_logits, logits_tol, what=f"logits {where} against E[t] @ E^T")
        assert_close(
            grad,
            want_grad,
            grad_tol,
            what=f"gradient of sum(W * logits) for the table {where} against head use + lookup use",
        )
