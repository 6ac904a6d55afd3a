"""Document 03, framework: a Linen kernel driving an nnx.Linear (the reverse direction, and from a checkpoint),
and what independent biases do to the two halves."""

from __future__ import annotations

import flax.serialization
import jax
import numpy as np
from flax import linen as nn
from hypothesis import given
from hypothesis import strategies as st

from conformance.engine.registry import conformance_property
from conformance.kit import compiled, oracles, tolerances
from conformance.kit import strategies as cst
from conformance.kit.assertions import assert_close, assert_equal_arrays
from conformance.kit.nnx_compat import assign

from . import DOCUMENT, Section, constructions


def _one_layer(x, kernel, bias=None) -> tolerances.Tolerance:
    return tolerances.dense_chain(x[None, :], [(kernel, bias)]).rows(0)


@conformance_property(
    "03-fw-nnx-reproduces-linen",
    document=DOCUMENT,
    section=Section.NON_OBVIOUS,
    title="A kernel taken from a Linen params dict (as it is, or as a msgpack checkpoint restores it) and put into "
    "an nnx.Linear makes it compute nn.Dense's output",
    hint="No converter should be needed from Linen to nnx either: check that pointing a Param at an array stores "
    "it unchanged, and that nnx.Linear computes x @ kernel.",
)
@given(shape=cst.vector_shapes(), data_seed=cst.data_seeds(), through_checkpoint=st.booleans())
def test_fw_nnx_reproduces_linen(shape, data_seed, through_checkpoint):
    in_dim, features = shape
    x = cst.normal_array(data_seed, (in_dim,))
    # A Linen params dict as a trained model holds it (an initialiser's draw would only cost a compilation).
    variables = {"params": {"kernel": jax.device_put(cst.normal_array(data_seed + 1, (in_dim, features)))}}
    kernel = np.asarray(variables["params"]["kernel"])
    linen_out = compiled.apply(nn.Dense, variables, x, features=features, use_bias=False)
    source = variables
    if through_checkpoint:  # checkpoint surgery: Linen's own serialization, read back without a target
        source = flax.serialization.msgpack_restore(flax.serialization.to_bytes(variables))
    route = "restored from a msgpack checkpoint" if through_checkpoint else "taken from the Linen params dict"
    linear = constructions.filled_nnx_linear(source["params"]["kernel"])
    assert_equal_arrays(
        np.asarray(linear.kernel[...]), kernel, what=f"nnx kernel after pointing it at the Linen kernel {route}"
    )
    nnx_out = np.asarray(compiled.nnx_call(linear, x))
    one = _one_layer(x, kernel)
    assert_close(
        nnx_out, oracles.dense(x, kernel), one, what=f"nnx.Linear with the Linen kernel ({route}) against x @ K"
    )
    assert_close(
        nnx_out,
        linen_out,
        tolerances.combined((1.0, one), (1.0, one)),
        what=f"nnx.Linear with the Linen kernel ({route}) against nn.Dense's own output",
    )


@conformance_property(
    "03-fw-independent-biases-asymmetric",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="With one shared kernel and each side's own default bias, the nnx and Linen outputs differ",
    hint="The document says independent biases make the result asymmetric. Both default bias initialisers are "
    "zeros, so at initialisation the two halves still agree; they drift apart only once the biases do.",
)
@given(seed=cst.seeds(), shape=cst.vector_shapes(), data_seed=cst.data_seeds())
def test_fw_independent_biases_asymmetric(seed, shape, data_seed):
    in_dim, features = shape
    x = cst.normal_array(data_seed, (in_dim,))
    kernel = constructions.nnx_linear_kernel(seed, in_dim, features)
    linear = constructions.nnx_linear_with_bias(seed, in_dim, features)  # nnx's default bias
    assign(linear.kernel, jax.device_put(kernel))  # the shared kernel
    linen_bias = constructions.linen_dense_with_bias(seed, in_dim, features)["params"]["bias"]  # Linen's default bias
    linen_out = compiled.apply(nn.Dense, {"params": {"kernel": kernel, "bias": linen_bias}}, x, features=features)
    nnx_out = np.asarray(compiled.nnx_call(linear, x))
    gap = np.abs(np.asarray(linen_out, np.float64) - nnx_out)
    one = _one_layer(x, kernel)
    assert (gap > 2 * one.bound).any(), (
        f"nnx_out and linen_out agree within rounding (max |diff| {gap.max():.3g}) although each side has its own bias: "
        f"nnx bias {np.asarray(linear.bias[...])[:4]}, Linen bias {np.asarray(linen_bias)[:4]}; the sum is "
        f"2 * nnx_out, not asymmetric"
    )
