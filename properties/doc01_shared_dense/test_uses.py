"""Document 01, 'Why this matters': the uses of sharing it lists, and sharing by instance, in Flax itself."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from hypothesis import assume, given

from conformance.engine.registry import conformance_property
from conformance.kit import compiled, tied_embedding, tolerances
from conformance.kit import strategies as cst
from conformance.kit.assertions import as_output, assert_close, assert_tree_shapes, dig

from . import DOCUMENT, Section, constructions, oracles

# --- tied input/output embeddings ----------------------------------------------


class _TiedEmbedding(nn.Module):
    """Tokens embedded with one table, logits projected with the same table (Embed.attend)."""

    vocab: int
    dim: int

    def setup(self):
        self.embed = nn.Embed(self.vocab, self.dim, name="embed")

    def __call__(self, tokens):
        return self.embed.attend(self.embed(tokens))


_ABSTRACT_KEY = jax.ShapeDtypeStruct((2,), jnp.uint32)


@compiled.once_per_shape
def _tied_structure(n: int, vocab: int, dim: int):
    shapes = jax.eval_shape(_TiedEmbedding(vocab, dim).init, _ABSTRACT_KEY, jax.ShapeDtypeStruct((n,), jnp.int32))
    assert_tree_shapes(
        shapes,
        {"params": {"embed": {"embedding": (vocab, dim)}}},
        what=f"params of Embed({vocab}, {dim}) used for lookup and attend",
    )
    leaves = len(jax.tree_util.tree_leaves(shapes))
    assert leaves == 1, f"a tied embedding has {leaves} param leaves, expected the one (V, D) table"
    return shapes


@functools.cache
def _tied_program(vocab: int, dim: int):
    """Logits and d sum(weights * logits)/d params, in one compiled call per shape."""
    model = _TiedEmbedding(vocab, dim)

    def run(variables, tokens, weights):
        grads = jax.grad(lambda v: jnp.sum(model.apply(v, tokens) * weights))(variables)
        return model.apply(variables, tokens), grads

    return compiled.fast_jit(run)


def _tokens(data_seed: int, n: int, vocab: int) -> np.ndarray:
    return np.random.default_rng(data_seed + 2).integers(0, vocab, size=n).astype(np.int32)


@conformance_property(
    "01-fw-embed-attend-ties-embedding",
    document=DOCUMENT,
    section=Section.WHY,
    title="nn.Embed.attend ties the embedding: one (V, D) table embeds the tokens and projects to logits h E^T, "
    "and its gradient is the sum of both roles' gradients",
    hint="Embed.attend must compute query @ embedding.T with the module's own table, without a copy or "
    "stop_gradient; check Flax's Embed.attend.",
)
@given(shape=cst.dense_shapes(), data_seed=cst.data_seeds())
def test_fw_embed_attend_ties_embedding(shape, data_seed):
    n, vocab, dim = shape
    variables = cst.normal_tree(data_seed, _tied_structure(n, vocab, dim))
    tokens = _tokens(data_seed, n, vocab)
    weights = cst.normal_array(data_seed + 1, (n, vocab))  # a cotangent for the logits: loss = sum(weights * logits)
    logits, grads = _tied_program(vocab, dim)(variables, tokens, weights)
    table = variables["params"]["embed"]["embedding"]
    looked_up = table[tokens]
    logits = as_output(logits, what="attend(embed(tokens))", shape=(n, vocab))
    assert_close(
        logits,
        tied_embedding.logits(tokens, table),
        tolerances.dense_chain(looked_up, [(table.T, None)]),
        what="attend(embed(tokens)) against E[tokens] @ E^T",
    )
    expected = tied_embedding.grads(tokens, table, weights)
    tol = tied_embedding.grads_tolerance(tokens, table, weights)
    got = as_output(dig(grads, "params", "embed", "embedding", what="gradients"), what="d loss/d embedding")
    assert_close(
        got,
        expected["total"],
        tol,
        what=f"gradient of the tied table for tokens {tokens.tolist()} (expected lookup + projection; "
        f"the projection side alone would be {np.round(expected['projection'].reshape(-1)[:3], 5)})",
    )


# --- Siamese branches ----------------------------------------------------------


class _Siamese(nn.Module):
    """One encoder declared in setup(), applied to two different inputs."""

    features: int

    def setup(self):
        self.encoder = nn.Dense(self.features, name="encoder")

    def __call__(self, left, right):
        return jax.nn.relu(self.encoder(left)), jax.nn.relu(self.encoder(right))


@compiled.once_per_shape
def _siamese_structure(n: int, in_dim: int, features: int):
    shapes = compiled.abstract_init(_Siamese(features), (n, in_dim), (n, in_dim))
    assert_tree_shapes(
        shapes,
        {"params": {"encoder": {"kernel": (in_dim, features), "bias": (features,)}}},
        what="params of a Siamese pair with one setup() encoder",
    )
    return shapes


@functools.cache
def _siamese_program(features: int):
    model = _Siamese(features)

    def run(variables, left, right):
        grads = jax.grad(lambda v: sum(jnp.sum(out) for out in model.apply(v, left, right)))(variables)
        return model.apply(variables, left, right), grads

    return compiled.fast_jit(run)


@conformance_property(
    "01-fw-siamese-encoder-shared",
    document=DOCUMENT,
    section=Section.WHY,
    title="A setup() encoder applied to two inputs is one param set: each branch is the encoder with those "
    "params, and the gradient is the sum of both branches'",
    hint="A submodule declared once in setup() must give one set of params to every call, and gradients "
    "must flow through every call.",
)
@given(shape=cst.dense_shapes(), data_seed=cst.data_seeds())
def test_fw_siamese_encoder_shared(shape, data_seed):
    n, in_dim, features = shape
    variables = cst.normal_tree(data_seed, _siamese_structure(n, in_dim, features))
    left, right = cst.normal_array(data_seed + 1, (2, n, in_dim))
    (out_left, out_right), grads = _siamese_program(features)(variables, left, right)
    k, b = variables["params"]["encoder"]["kernel"], variables["params"]["encoder"]["bias"]
    expected = {}
    for side, x, out in (("left", left, out_left), ("right", right, out_right)):
        tol = tolerances.dense_chain(x, [(k, b)])
        # A pre-activation within rounding of 0 makes relu's derivative a coin toss.
        assume(not oracles.near_zero(oracles.dense(x, k, b), tol.bound))
        assert_close(
            as_output(out, what=f"{side} branch", shape=(n, features)),
            oracles.relu(oracles.dense(x, k, b)),
            tol,
            what=f"{side} branch against relu(x K + b) with the one encoder's params",
        )
        expected[side] = oracles.relu_branch_grads(x, k, b)
    for name in ("kernel", "bias"):
        tol = tolerances.combined(
            *(
                (
                    1.0,
                    tolerances.dense_chain(
                        (x.T if name == "kernel" else np.ones((1, n))), [(expected[side]["mask"], None)]
                    ),
                )
                for side, x in (("left", left), ("right", right))
            )
        )
        want = expected["left"][name] + expected["right"][name]
        got = as_output(dig(grads, "params", "encoder", name, what="gradients"), what=f"d loss/d {name}")
        assert_close(
            got,
            want.reshape(got.shape),
            tol,
            what=f"gradient of the encoder's {name} (expected left + right branch; the left branch alone "
            f"would be {np.round(expected['left'][name].reshape(-1)[:3], 5)})",
        )


# --- one instance, one set of params ---------------------------------------------


class _Through(nn.Module):
    """A child module that holds a layer it was handed and applies it, then relu."""

    layer: nn.Module

    def __call__(self, x):
        return jax.nn.relu(self.layer(x))


class _PassedToTwo(nn.Module):
    """One nn.Dense instance handed to two child modules, one after the other."""

    hidden: int

    @nn.compact
    def __call__(self, x):
        dense = nn.Dense(self.hidden)
        return _Through(dense)(_Through(dense)(x))


_ONE_INSTANCE_WAYS = {
    "one Dense called twice in @nn.compact": constructions.CompactReuse,
    "one Dense handed to two child modules": _PassedToTwo,
}


@compiled.once_per_shape
def _one_instance_structure(n: int, hidden: int) -> tuple[str, ...]:
    """The key of the one param entry each way gives."""
    keys = []
    for way, cls in _ONE_INSTANCE_WAYS.items():
        params = compiled.abstract_init(cls(hidden), (n, hidden))["params"]
        assert len(params) == 1, f"{way}: params have entries {list(params)}, expected one (one instance, one set)"
        key = next(iter(params))
        assert_tree_shapes(params, {key: {"kernel": (hidden, hidden), "bias": (hidden,)}}, what=f"{way}: params")
        keys.append(key)
    return tuple(keys)


@functools.cache
def _one_instance_program(hidden: int):
    models = [cls(hidden) for cls in _ONE_INSTANCE_WAYS.values()]

    def run(params, x):
        out = []
        for model, variables in zip(models, params):
            grads = jax.grad(lambda v, m=model: jnp.sum(m.apply(v, x)))(variables)
            out.append((model.apply(variables, x), grads))
        return out

    return compiled.fast_jit(run)


@conformance_property(
    "01-fw-one-instance-one-param-set",
    document=DOCUMENT,
    section=Section.WHY,
    title="One module instance is one set of params wherever it is called: reused in @nn.compact or handed "
    "to two child modules, it gives one kernel and bias, read by both sites, gradients summed",
    hint="Flax binds a module instance to one scope; calling it again, or through another module, must reuse "
    "its params.",
)
@given(shape=cst.square_shapes(), data_seed=cst.data_seeds())
def test_fw_one_instance_one_param_set(shape, data_seed):
    n, hidden = shape
    keys = _one_instance_structure(n, hidden)
    shapes = {
        "kernel": jax.ShapeDtypeStruct((hidden, hidden), jnp.float32),
        "bias": jax.ShapeDtypeStruct((hidden,), jnp.float32),
    }

    def draw(s: int) -> tuple:
        layer = cst.normal_tree(s, shapes)
        return cst.normal_array(s + 1, (n, hidden)), layer["kernel"], layer["bias"]

    found = oracles.clear_of_kink(draw, data_seed)  # relu's derivative is a coin toss within rounding of 0
    assume(found is not None)
    x, k, b = found
    layer = {"kernel": k, "bias": b}
    results = _one_instance_program(hidden)([{"params": {key: layer}} for key in keys], x)
    expected, tol = oracles.shared_dense_grads(x, k, b), tolerances.shared_dense_grads(x, k, b)
    out_expected, out_tol = oracles.shared_dense(x, k, b), tolerances.dense_chain(x, [(k, b), (k, b)])
    for (way, key), (out, grads) in zip(zip(_ONE_INSTANCE_WAYS, keys), results):
        assert_close(
            as_output(out, what=way, shape=(n, hidden)),
            out_expected,
            out_tol,
            what=f"{way}: output against relu(relu(x K + b) K + b) with its one (K, b)",
        )
        for name in ("kernel", "bias"):
            got = as_output(dig(grads, "params", key, name, what=f"{way}: gradients"), what=f"d sum(out)/d {name}")
            assert_close(
                got,
                expected[name],
                tol[name],
                what=f"{way}: gradient of the {name} (expected site 1 + site 2; site 1 alone would be "
                f"{np.round(expected[name + '_site1'].reshape(-1)[:3], 5)})",
            )
