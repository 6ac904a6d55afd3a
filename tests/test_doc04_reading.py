"""Document 04's reading of layouts: units by shape, roles by behaviour or PARAM_ROLES, pieces, layer slots."""

from __future__ import annotations

import json
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conformance.properties.doc04_cross_layer import calls, layout, reading
from conformance.properties.doc04_cross_layer.constructions import (
    DocBlock,
    DocShared,
    DocUnshared,
)
from conformance.properties.doc04_cross_layer.numerics import oracles
from conftest import run_cli
from doc04_support import DEEP, SMALL, USERS, impl_of, packed, shapes_of
from flax import linen as nn

from conformance.kit.strategies import random_params

# --- reading a layout: structure, roles, pieces, layer slots ------------------------------------


def test_block_structure_sorts_a_blocks_units_by_width():
    c = SMALL
    st = reading.block_structure(shapes_of(DocBlock(*c.dims), c), *c.dims, "DocBlock")
    assert [u.path.rsplit("/", 1)[-1] for u in st.attention] == ["key", "out", "query", "value"]
    assert (st.fc1.path, st.fc2.path, [u.path for u in st.norms]) == ("/fc1", "/fc2", ["/norm1", "/norm2"])


def test_block_structure_rejects_equal_widths():
    with pytest.raises(ValueError):
        reading.block_structure({}, 4, 2, 4, "x")


def test_a_layout_without_pairs_is_unreadable_not_wrong():
    c = SMALL
    impl = impl_of("packed_unhinted", TransformerBlock=packed.TransformerBlock)
    with pytest.raises(reading.LayoutUnreadable, match=r"could not read the parameter layout.*PARAM_ROLES"):
        layout.block_roles(impl, c.dims)
    assert not issubclass(reading.LayoutUnreadable, AssertionError)  # reported as error, never as failed


def test_a_block_with_missing_parameters_fails_the_claim():
    c = SMALL
    with pytest.raises(AssertionError, match=r"holds 156 parameters.*A\+F\+2N = 172"):
        layout.block_roles(impl_of("conformance.implementations.mutants.m04_no_attention_bias"), c.dims)


class _HeadInterleaved(nn.Module):
    """A post-LN block whose fused (d, 3d) projection is laid out per head, [q_h | k_h | v_h]."""

    d_model: int
    num_heads: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        b, s, d = x.shape
        h = self.num_heads
        t = nn.Dense(3 * d, name="w_in")(x).reshape(b, s, h, 3, d // h)
        q, k, v = t[..., 0, :], t[..., 1, :], t[..., 2, :]
        scores = jnp.einsum("bqhd,bkhd->bhqk", q / jnp.sqrt(d // h).astype(x.dtype), k)
        o = nn.Dense(d, name="w_out")(jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(scores, -1), v).reshape(b, s, d))
        x = nn.LayerNorm(1e-5, name="n_a")(x + o)
        f = nn.Dense(self.d_model, name="f_b")(nn.gelu(nn.Dense(self.d_ff, name="f_a")(x), approximate=False))
        return nn.LayerNorm(1e-5, name="n_b")(x + f)


LAYOUTS = {  # implementation -> role -> where the suite must find it
    "conformance.implementations.reference": {
        "q.kernel": "/attention/query/kernel",
        "k.kernel": "/attention/key/kernel",
        "o.kernel": "/attention/out/kernel",
        "fc1.kernel": "/ffn/fc1/kernel",
        "ln1.scale": "/norm1/scale",
        "ln2.bias": "/norm2/bias",
    },
    "conformance.implementations.variants.separate_projections": {
        "q.kernel": "/inner/mixer/attend/to_q/kernel",
        "v.bias": "/inner/mixer/attend/to_v/bias",
        "o.kernel": "/inner/mixer/attend/proj/kernel",
        "fc2.kernel": "/inner/ffn/down/kernel",
        "ln1.scale": "/inner/mixer/norm/scale",
        "ln2.scale": "/inner/out_norm/scale",
    },
    "conformance.implementations.variants.fused_qkv": {
        "q.kernel": "/mixer/qkv/kernel[q of fused [q|k|v]]",
        "k.bias": "/mixer/qkv/bias[k of fused [q|k|v]]",
        "o.kernel": "/mixer/proj/kernel",
        "ln1.bias": "/post_mixer_norm/bias",
        "ln2.scale": "/out_norm/scale",
    },
    "head-interleaved": {
        "q.kernel": "/w_in/kernel[q of fused per head [q_h|k_h|v_h]]",
        "v.kernel": "/w_in/kernel[v of fused per head [q_h|k_h|v_h]]",
        "o.kernel": "/w_out/kernel",
        "fc1.kernel": "/f_a/kernel",
        "ln1.scale": "/n_a/scale",
        "ln2.scale": "/n_b/scale",
    },
}


# Known limitation: a fused projection laid out per head ([q_h|k_h|v_h]) with head size 2 (the ci pool's
# deep case: d_model 8, 4 heads) is sometimes read as [q|k|v]; PARAM_ROLES reads it.
PER_HEAD_HD2 = "per-head fused QKV at head size 2 can be misread by the probes (known limitation; PARAM_ROLES reads it)"


@pytest.mark.parametrize("target", LAYOUTS)
@pytest.mark.parametrize("case", [1, 2])  # SMALL, DEEP
def test_roles_are_found_by_behaviour_and_read_the_oracles_function(target, case):
    c = {1: SMALL, 2: DEEP}[case]
    impl = impl_of(target, **({"TransformerBlock": _HeadInterleaved} if target == "head-interleaved" else {}))
    found = layout.block_roles(impl, c.dims)
    assert found.source == "probes" and found.ln_order_known
    read = {r: str(found.refs[r]) for r in LAYOUTS[target]}
    if read != LAYOUTS[target] and target == "head-interleaved" and c.d_model // c.num_heads == 2:
        pytest.xfail(PER_HEAD_HD2)
    assert read == LAYOUTS[target]
    params = random_params(calls.param_shapes(impl, "TransformerBlock", c.dims), case)
    x = np.random.default_rng(case).standard_normal(c.x_shape).astype(np.float32)
    y = calls.apply(impl, "TransformerBlock", c.dims, params, x)
    [reading] = found.readings(params)
    expected, tol = oracles.stack(x, reading, 1)
    assert (np.abs(y - expected) <= tol.bound).all()
    assert layout.block_roles(impl, c.dims) is found  # probed once per class and size


def test_param_roles_reads_what_the_probes_cannot():
    c = DEEP
    impl = impl_of("packed", TransformerBlock=packed.TransformerBlock, PARAM_ROLES=packed.PARAM_ROLES)
    found = layout.block_roles(impl, c.dims)
    assert found.source == "PARAM_ROLES" and str(found.refs["k.bias"]) == "/attention/bk"
    params = random_params(calls.param_shapes(impl, "TransformerBlock", c.dims), 0)
    x = np.random.default_rng(0).standard_normal(c.x_shape).astype(np.float32)
    expected, tol = oracles.stack(x, found.read(params), 1)
    assert (np.abs(calls.apply(impl, "TransformerBlock", c.dims, params, x) - expected) <= tol.bound).all()
    # The written values land where they are read from.
    assert np.array_equal(found.read(found.write(params, found.read(params))).fc2[0], found.read(params).fc2[0])


def test_param_roles_that_name_no_leaf_are_reported_as_unreadable():
    c = SMALL
    wrong = {**packed.PARAM_ROLES, "q.kernel": "attention/query"}
    impl = impl_of("packed_wrong", TransformerBlock=packed.TransformerBlock, PARAM_ROLES=wrong)
    with pytest.raises(reading.LayoutUnreadable, match=r"q\.kernel: no leaf ./attention/query."):
        layout.block_roles(impl, c.dims)


def test_a_pre_ln_block_is_read_and_then_fails_the_oracle():
    c = SMALL
    impl = impl_of("conformance.implementations.mutants.m04_pre_ln")
    found = layout.block_roles(impl, c.dims)  # readable: attention by its kills, scales by their initial ones
    assert not found.ln_order_known and str(found.refs["ln1.scale"]).endswith("/scale")
    params = random_params(calls.param_shapes(impl, "TransformerBlock", c.dims), 0)
    x = np.random.default_rng(0).standard_normal(c.x_shape).astype(np.float32)
    y = calls.apply(impl, "TransformerBlock", c.dims, params, x)
    match = oracles.closest_layout(x, y, found.readings(params))
    assert (np.abs(y - match.expected) > match.tolerance.bound).any()


def test_pieces_are_counted_by_the_blocks_own_units_also_when_stacked():
    c = DEEP

    class Body(nn.Module):
        @nn.compact
        def __call__(self, h, _):
            return DocBlock(*c.dims, name="b")(h), None

    class Stacked(nn.Module):
        @nn.compact
        def __call__(self, x):
            body = nn.scan(Body, variable_axes={"params": 0}, split_rngs={"params": True}, length=c.num_layers)
            return body(name="layers")(x, None)[0]

    impl = impl_of("doc", TransformerBlock=DocBlock)
    sigs = layout.block_signatures(impl, c.dims)
    shapes = shapes_of(Stacked(), c)
    L = c.num_layers
    assert reading.count_pieces(shapes, sigs) == ({"attention": L, "fc1": L, "fc2": L, "norm": 2 * L}, [])
    assert reading.count_pieces(shapes_of(DocShared(L, *c.dims), c), sigs) == (
        {"attention": 1, "fc1": 1, "fc2": 1, "norm": 2},
        [],
    )
    block = shapes_of(DocBlock(*c.dims), c)
    slots = reading.find_layers(shapes, block)
    assert slots == [("/layers/b", i) for i in range(L)]
    values = random_params(block, 0)
    placed = reading.place_layers(shapes, slots, values)
    for s in slots:
        got = reading.get_layer(placed, s)
        assert all(
            np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(values))
        )


def test_find_layers_in_an_unshared_model():
    c = DEEP
    slots = reading.find_layers(shapes_of(DocUnshared(c.num_layers, *c.dims), c), shapes_of(DocBlock(*c.dims), c))
    assert slots == [(f"/layers_{i}", None) for i in range(c.num_layers)]


def test_share_modes_restrict_what_is_checked(tmp_path):
    solution = tmp_path / "albert_like.py"
    solution.write_text(
        "from conformance.implementations.reference import TransformerBlock, SharedTransformer, "
        "UnsharedTransformer\nSHARE_MODES = ('all',)\n"
    )
    report = tmp_path / "r.json"
    run_cli(
        "run",
        "--impl",
        str(solution),
        "--profile",
        "dev",
        "--only",
        "04-params-share-ffn",
        "04-params-shared-all-is-one-block",
        "04-sharing-layout-by-piece",
        "--json",
        str(report),
    )
    got = {r["id"]: r for r in json.loads(report.read_text())["results"]}
    assert got["04-params-share-ffn"]["status"] == "not_provided"
    assert "SharedTransformer(share='ffn')" in got["04-params-share-ffn"]["message"]
    assert got["04-params-shared-all-is-one-block"]["status"] == "passed"
    assert got["04-sharing-layout-by-piece"]["status"] == "passed" and got["04-sharing-layout-by-piece"]["examples"] > 0


def test_an_unreadable_layout_is_an_error_that_names_the_hook(tmp_path):
    shutil.copy(USERS / "packed_attention.py", tmp_path / "packed_attention.py")
    unhinted = tmp_path / "unhinted.py"
    unhinted.write_text("from packed_attention import TransformerBlock, SharedTransformer, UnsharedTransformer\n")
    only = ["--only", "04-block-matches-oracle", "04-sharing-layout-by-piece"]
    for impl, status in ((unhinted, "error"), (tmp_path / "packed_attention.py", "passed")):
        report = tmp_path / f"{impl.stem}.json"
        run_cli("run", "--impl", str(impl), "--profile", "dev", *only, "--json", str(report))
        got = {r["id"]: r for r in json.loads(report.read_text())["results"]}
        assert {r["status"] for r in got.values()} == {status}, got
        if status == "error":
            assert all(
                "could not read the parameter layout" in r["message"] and "PARAM_ROLES" in r["message"]
                for r in got.values()
            )


# --- a model's layers, by behaviour ---------------------------------------------------------------


def test_a_stacks_layers_are_read_in_the_order_the_model_runs_them():
    c = SMALL
    args = (3, *c.dims)
    ref = impl_of("conformance.implementations.reference")
    stack = layout.model_stack(ref, "SharedTransformer", args, "ffn")
    assert [layer.attention.where for layer in stack.layers] == [f"/layers_{i}/attention" for i in range(3)]
    assert {layer.ffn.where for layer in stack.layers} == {"/ffn"} and stack.shared("ffn")
    assert stack.out_of_order() is None
    reversed_ = layout.model_stack(impl_of("conformance.implementations.mutants.m04_unshared_reversed"),
                                   "UnsharedTransformer", args)  # fmt: skip
    assert [layer.ln2.where for layer in reversed_.layers] == [f"/layers_{i}/norm2" for i in (2, 1, 0)]
    assert "not in the order they sit" in reversed_.out_of_order()


def test_a_deep_narrow_stack_on_few_tokens_is_read():
    """Pool seed 16's deepest case (19 layers at d_model 4, three tokens): after a zeroed LayerNorm scale every
    token is one vector, and pieces that run later keep as little as 5e-4 of their gradient. They still matter:
    only an exactly zero gradient means silent."""
    ref = impl_of("conformance.implementations.reference")
    stack = layout.model_stack(ref, "UnsharedTransformer", (19, 4, 4, 2), None, (1, 3, 4))
    assert [layer.attention.where for layer in stack.layers] == [f"/layers_{i}/attention" for i in range(19)]
    assert stack.out_of_order() is None


def test_stacked_layers_are_read_slice_by_slice():
    c = SMALL
    scan = impl_of("conformance.implementations.variants.scan_transformer")
    stack = layout.model_stack(scan, "UnsharedTransformer", (3, *c.dims))
    assert [layer.attention.index for layer in stack.layers] == [0, 1, 2]
    values = random_params(calls.param_shapes(scan, "UnsharedTransformer", (3, *c.dims)), 0)
    read = stack.read(values)
    written = stack.write(calls.param_shapes(scan, "UnsharedTransformer", (3, *c.dims)), read)
    assert all(
        np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(written), jax.tree_util.tree_leaves(values))
    )


def test_parameters_that_never_reach_the_output_fail_the_reading():
    c = SMALL
    repeated = impl_of("conformance.implementations.mutants.m04_unshared_first_layer_repeated")
    with pytest.raises(AssertionError, match="never affect the output"):
        layout.model_stack(repeated, "UnsharedTransformer", (3, *c.dims))


def test_trees_keep_the_keys_an_implementation_chose():
    """nnx.List layers handed over through nnx.bridge are keyed by int; paths name them by their string form."""
    from conformance.kit import trees

    tree = {"layers": {0: {"w": np.zeros(2)}, 1: {"w": np.ones(2)}}, "top": {"b": np.zeros(1)}}
    assert np.array_equal(trees.get_path(tree, "/layers/1/w"), np.ones(2))
    edited = trees.set_paths(tree, ["/layers/0/w"], np.full(2, 7.0))
    assert list(edited["layers"]) == [0, 1] and np.array_equal(edited["layers"][0]["w"], np.full(2, 7.0))
    assert list(random_params(tree, 0)["layers"]) == [0, 1]
    assert set(trees.flat_shapes(tree)) == {"/layers/0/w", "/layers/1/w", "/top/b"}
    with pytest.raises(KeyError, match="no key '2'"):
        trees.get_path(tree, "/layers/2/w")


def test_a_stack_of_width_1_is_read_at_the_companion_width_even_with_param_roles(tmp_path):
    """PARAM_ROLES names a block's roles, not which layer runs which piece: that is read by behaviour, which no
    probe sees at d_model 1. A conforming model that declared PARAM_ROLES failed the unshared properties at the
    edge case of one of everything (L=1, d_model 1): its layer looked unused."""
    shutil.copy(USERS / "packed_attention.py", tmp_path / "packed_attention.py")
    for prop, example in (
        ("04-unshared-runs-its-layers-in-order", '{"case": 0, "data_seed": 0, "scale": 1.0, "seed": 0}'),
        ("04-unshared-layer-grads-match-oracle", '{"case": 0, "data_seed": 0, "seed": 0}'),
    ):
        report = tmp_path / f"{prop}.json"
        run_cli(
            "run", "--impl", str(tmp_path / "packed_attention.py"), "--only", prop, "--pool-seed", "0",
            "--workers", "0", "--example", example, "--json", str(report),
        )  # fmt: skip
        [result] = json.loads(report.read_text())["results"]
        assert result["status"] == "passed", result["message"][:2000]
