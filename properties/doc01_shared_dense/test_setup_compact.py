"""Document 01 on setup() and @nn.compact: fresh layers inline, reuse in compact, and when setup() runs."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from hypothesis import given

from conformance.engine.registry import conformance_property
from conformance.kit import compiled
from conformance.kit import strategies as cst
from conformance.kit.assertions import assert_equal_arrays

from . import DOCUMENT, Section, constructions


@conformance_property(
    "01-fw-only-setup-shares-across-call-sites",
    document=DOCUMENT,
    section=Section.SETUP_VS_COMPACT,
    title="Only setup() lets one submodule serve two call sites: a Dense created once in @nn.compact and "
    "called twice does not give one shared kernel and bias",
    hint="If this fails, @nn.compact shares a reused instance just as setup() does (one entry, 2 leaves); "
    "the document's 'only setup()' does not hold for this release.",
)
@given(shape=cst.square_shapes(structural=True))
def test_fw_only_setup_shares_across_call_sites(shape):
    n, hidden = shape
    shapes = compiled.abstract_init(constructions.CompactReuse(hidden), (n, hidden))
    params = shapes["params"]
    leaves = {f"{key}/{name}": tuple(leaf.shape) for key in params for name, leaf in params[key].items()}
    if len(params) == 1 and len(leaves) == 2:
        raise AssertionError(
            f"a Dense created once in @nn.compact and called at two sites gives one entry with "
            f"2 leaves {leaves}: one shared kernel and bias, as setup() gives, so setup() is not "
            f"the only way"
        )


@functools.cache
def _inline_init(hidden: int):
    model = constructions.DocInlineDense(hidden)
    # Kernels are compared with each other only, never with another init: the fast options do.
    return compiled.fast_jit(lambda key: model.init(key, jnp.zeros((1, hidden), jnp.float32))["params"])


@conformance_property(
    "01-fw-inline-dense-fresh-params",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="The two inline nn.Dense of the non-shared version are initialised apart: different kernels, "
    "each bias a fresh zero vector",
    hint="Each compact submodule draws its init key from its own name (Dense_0, Dense_1); if both kernels are "
    "equal, sibling submodules share an RNG stream.",
)
@given(seed=cst.seeds(), hidden=cst.features())
def test_fw_inline_dense_fresh_params(seed, hidden):
    params = _inline_init(hidden)(jax.random.PRNGKey(seed))
    kernels = [np.asarray(params[f"Dense_{i}"]["kernel"]) for i in range(2)]
    if np.array_equal(*kernels):
        raise AssertionError(
            f"Dense_0 and Dense_1 hold the same kernel {kernels[0].reshape(-1)[:4]}: "
            f"the second layer is not freshly initialised"
        )
    for i in range(2):
        assert_equal_arrays(params[f"Dense_{i}"]["bias"], np.zeros(hidden, np.float32), what=f"Dense_{i} bias at init")


_SETUP_RUNS: list[str] = []


class _CountedSetup(nn.Module):
    """Document 01's SharedDense, counting its setup() runs."""

    hidden: int

    def setup(self):
        _SETUP_RUNS.append(type(self).__name__)
        self.shared = nn.Dense(self.hidden, name="shared")

    def __call__(self, x):
        return jax.nn.relu(self.shared(jax.nn.relu(self.shared(x))))


def _setup_runs(fn) -> int:
    _SETUP_RUNS.clear()
    fn()
    return len(_SETUP_RUNS)


@conformance_property(
    "01-fw-setup-runs-once-per-init-and-apply",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="Flax runs setup() by itself, once per init and once per apply, however many call sites use the submodule",
    hint="Module.init and Module.apply must each bind the module once; a second run of setup() means the "
    "module was built again.",
)
@given(shape=cst.square_shapes())  # the count cannot depend on the shape: the run's few shapes will do
def test_fw_setup_runs_once_per_init_and_apply(shape):
    n, hidden = shape
    model = _CountedSetup(hidden)
    x = jax.ShapeDtypeStruct((n, hidden), jnp.float32)
    variables = []
    runs = _setup_runs(lambda: variables.append(compiled.abstract_init(model, (n, hidden))))
    assert runs == 1, f"init ran setup() {runs} times, expected once"
    runs = _setup_runs(lambda: jax.eval_shape(model.apply, variables[0], x))
    assert runs == 1, f"apply (two call sites of self.shared) ran setup() {runs} times, expected once"
