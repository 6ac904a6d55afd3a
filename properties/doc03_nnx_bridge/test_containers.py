"""Document 03, framework: what each framework's container holds (plain arrays, a Param, metadata, a bias)."""

from __future__ import annotations

import warnings

import jax
import numpy as np
from flax import linen as nn
from flax import nnx
from hypothesis import given

from conformance.engine.registry import conformance_property
from conformance.kit import compiled
from conformance.kit import strategies as cst
from conformance.kit.assertions import assert_equal_arrays, assert_raises, assert_tree_shapes
from conformance.kit.nnx_compat import held, metadata

from . import DOCUMENT, Section, constructions


def _linen_params(variables) -> dict:
    """The 'params' collection of a Linen variables dict, as name -> leaf (what the dict itself holds)."""
    params = variables["params"]
    return {str(name): params[name] for name in params.keys()}


@conformance_property(
    "03-fw-params-are-plain-arrays",
    document=DOCUMENT,
    section=Section.WHY,
    title="nn.Dense's params dict and nnx.Linear's Params hold kernel and bias as plain jax.Arrays, of one and the "
    "same array type",
    hint="Neither framework may have a tensor type of its own: a Linen leaf that comes back boxed (nn.Partitioned, "
    "a metadata wrapper) or an nnx Param whose [...] is not a jax.Array breaks sharing by handing the array over.",
)
@given(shape=cst.vector_shapes())
def test_fw_params_are_plain_arrays(shape):
    in_dim, features = shape
    # Concrete containers from each framework's own init (a zeros kernel initialiser keeps that cheap);
    # neither a seed nor the initial values can change what type they hold.
    linen = _linen_params(constructions.linen_dense_with_bias(0, in_dim, features))
    linear = constructions.nnx_linear_with_bias(0, in_dim, features)
    assert sorted(linen) == ["bias", "kernel"], (
        f"nn.Dense({features}) params hold {sorted(linen)}, expected bias and kernel"
    )
    for name, leaf in linen.items():
        assert isinstance(leaf, jax.Array), (
            f"Linen params['params'][{name!r}] is a {type(leaf).__module__}.{type(leaf).__name__}, not a plain jax.Array"
        )
    for name in ("kernel", "bias"):
        wrapper = getattr(linear, name)
        assert isinstance(wrapper, nnx.Param), f"nnx.Linear.{name} is a {type(wrapper).__name__}, expected an nnx.Param"
        array = wrapper[...]
        assert isinstance(array, jax.Array), f"nnx.Linear.{name}[...] is a {type(array).__name__}, not a jax.Array"
        assert type(array) is type(linen[name]), (
            f"nnx.Linear.{name}[...] is a {type(array).__name__} but Linen's {name} is a {type(linen[name]).__name__}: "
            "the two frameworks should hold the same kind of array"
        )


def _held_by_unbound(module: nn.Module) -> list:
    """The arrays an unbound Linen module exposes as its variables (Linen refuses to read them: none)."""
    try:
        variables = module.variables
    except ValueError:  # "Can't access variables on unbound modules"
        return []
    return jax.tree_util.tree_leaves(variables)


@conformance_property(
    "03-fw-dense-lazy-linear-holds-param",
    document=DOCUMENT,
    section=Section.SETUP,
    title="A fresh nn.Dense holds no variables: init creates its kernel from the input it sees; an nnx.Linear holds "
    "its kernel as an nnx.Param from construction",
    hint="Linen modules are stateless descriptions: variables live only in the dict init returns, shaped by the "
    "input. If a fresh nn.Dense shows variables, Linen keeps state between modules.",
)
# The run's pool, not free sizes: each example traces three or four abstract programs, and a
# default or a layout does not depend on the width.
@given(shape=cst.vector_shapes())
def test_fw_dense_lazy_linear_holds_param(shape):
    in_dim, features = shape
    # Structure only: a seed cannot change it (compiled.abstract_init).
    first = nn.Dense(features)
    assert not _held_by_unbound(first), f"a new nn.Dense({features}) holds variables before init"
    wide = compiled.abstract_init(first, (1, in_dim + 1))
    assert_tree_shapes(
        wide,
        {"params": {"kernel": (in_dim + 1, features), "bias": (features,)}},
        what=f"nn.Dense({features}).init on an input of width {in_dim + 1}",
    )
    fresh = nn.Dense(features)  # made after another Dense was initialised: still empty
    leftover = _held_by_unbound(fresh)
    assert not leftover, (
        f"a new nn.Dense({features}) holds {len(leftover)} arrays before its own init (after another Dense's init)"
    )
    assert_tree_shapes(
        compiled.abstract_init(fresh, (1, in_dim)),
        {"params": {"kernel": (in_dim, features), "bias": (features,)}},
        what=f"nn.Dense({features}).init on an input of width {in_dim}",
    )
    linear = nnx.eval_shape(lambda: nnx.Linear(in_dim, features, rngs=nnx.Rngs(0)))
    assert isinstance(linear.kernel, nnx.Param), (
        f"nnx.Linear.kernel is a {type(linear.kernel).__name__} right after construction, expected an nnx.Param"
    )
    kernel_shape = np.shape(held(linear.kernel))
    assert kernel_shape == (in_dim, features), (
        f"nnx.Linear({in_dim}, {features}).kernel has shape {kernel_shape} before any call"
    )


class _Holder(nnx.Module):
    def __init__(self, weight: nnx.Param):
        self.weight = weight


def _partition_specs(module: nnx.Module) -> list:
    """The sharding annotations nnx reads from a module's state (nnx.get_partition_spec), leaf by leaf."""
    spec = nnx.get_partition_spec(nnx.state(module))
    return jax.tree_util.tree_leaves(spec, is_leaf=lambda v: isinstance(v, jax.sharding.PartitionSpec))


@conformance_property(
    "03-fw-param-holds-array-and-metadata",
    document=DOCUMENT,
    section=Section.NON_OBVIOUS,
    title="nnx.Param(value=a).value is a itself; the Param adds only metadata (a sharding annotation, a name), "
    "which survives nnx.split/nnx.merge; Linen's dict and its sharding box hold the array the same way",
    hint="A Param that copies or converts the array it is given, or loses its metadata in a split/merge round "
    "trip, is more than a container: sharing by handing the array over would no longer be exact.",
)
@given(shape=cst.vector_shapes(), data_seed=cst.data_seeds())
def test_fw_param_holds_array_and_metadata(shape, data_seed):
    array = jax.device_put(cst.normal_array(data_seed, shape))  # a jax array made without compiling
    names = ("in", "out")
    want_spec = jax.sharding.PartitionSpec(*names)
    with warnings.catch_warnings():
        # The annotation's keyword was renamed across releases (sharding, sharding_names, out_sharding); the
        # oldest spelling still works. The deprecation of .value is 03-fw-value-accessor-silent's business.
        warnings.simplefilter("ignore", DeprecationWarning)
        param = nnx.Param(value=array, sharding=names, eager_sharding=False, label="kernel")
        value = param.value
    assert value is array, f"nnx.Param(value=a).value is a {type(value).__name__} other than a (a copy or a conversion)"

    holder = _Holder(param)
    graphdef, state = nnx.split(holder)
    leaves = jax.tree_util.tree_leaves(state)
    assert len(leaves) == 1 and leaves[0] is array, (
        f"nnx.split's state holds {[type(v).__name__ for v in leaves]}, expected exactly the Param's array"
    )
    rebuilt = nnx.merge(graphdef, state)
    for when, module in (("as built", holder), ("after nnx.split/nnx.merge", rebuilt)):
        assert isinstance(module.weight, nnx.Param), f"{when} the weight is a {type(module.weight).__name__}"
        assert metadata(module.weight).get("label") == "kernel", (
            f"Param metadata {when}: {metadata(module.weight)}, no label"
        )
        specs = _partition_specs(module)
        assert specs == [want_spec], f"nnx.get_partition_spec {when}: {specs}, expected [{want_spec}]"
    assert_equal_arrays(rebuilt.weight[...], np.asarray(array), what="the Param's array after nnx.split/nnx.merge")

    linen = {"params": {"kernel": array}}
    assert linen["params"]["kernel"] is array, "the Linen params dict does not hold the array it was given"
    box = nn.Partitioned(array, names=names)  # Linen's sharding hint around the same array
    assert box.unbox() is array and tuple(box.names) == names, (
        f"nn.Partitioned unboxes to {type(box.unbox()).__name__} with names {box.names}, expected the array and {names}"
    )


@conformance_property(
    "03-fw-use-bias-default-true",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="nnx.Linear and nn.Dense both have a bias by default (use_bias=True) and none with use_bias=False",
    hint="The document disables the bias on both sides because both default to one; a default change on either "
    "side changes what a kernel shared without use_bias=False computes.",
)
# The run's pool, not free sizes: each example traces three or four abstract programs, and a
# default or a layout does not depend on the width.
@given(shape=cst.vector_shapes())
def test_fw_use_bias_default_true(shape):
    in_dim, features = shape
    linear = nnx.eval_shape(lambda: nnx.Linear(in_dim, features, rngs=nnx.Rngs(0)))
    bias = getattr(linear, "bias", None)
    assert isinstance(bias, nnx.Param) and np.shape(held(bias)) == (features,), (
        f"nnx.Linear({in_dim}, {features}) with default arguments has bias {bias!r}, expected an nnx.Param of shape ({features},)"
    )
    assert_tree_shapes(
        compiled.abstract_init(nn.Dense(features), (1, in_dim)),
        {"params": {"kernel": (in_dim, features), "bias": (features,)}},
        what=f"nn.Dense({features}) with default arguments",
    )
    bare = nnx.eval_shape(lambda: nnx.Linear(in_dim, features, use_bias=False, rngs=nnx.Rngs(0)))
    # No bias array at all: recent releases set bias to None, older ones hold a Param whose value is None.
    leaves = [np.shape(v) for v in jax.tree_util.tree_leaves(nnx.state(bare, nnx.Param))]
    assert leaves == [(in_dim, features)], (
        f"nnx.Linear(use_bias=False) holds Params of shapes {leaves}, expected the kernel {(in_dim, features)} alone"
    )
    assert_tree_shapes(
        compiled.abstract_init(nn.Dense(features, use_bias=False), (1, in_dim)),
        {"params": {"kernel": (in_dim, features)}},
        what=f"nn.Dense({features}, use_bias=False)",
    )


@conformance_property(
    "03-fw-shared-array-is-immutable",
    document=DOCUMENT,
    section=Section.PITFALLS,
    title="The kernel array shared by the nnx Param and the Linen dict cannot be changed in place: item assignment "
    "raises TypeError and both sides keep their values",
    hint="JAX arrays are immutable; if item assignment succeeds, Param[...] hands out mutable storage and a change "
    "on one side would silently show on the other.",
)
@given(seed=cst.seeds(), shape=cst.vector_shapes())
def test_fw_shared_array_is_immutable(seed, shape):
    in_dim, features = shape
    linear = constructions.nnx_linear(seed, in_dim, features)
    shared = linear.kernel[...]
    linen_params = {"params": {"kernel": shared}}
    before = np.array(shared)
    for where, array in (
        ("nnx_linear.kernel[...]", shared),
        ("linen_params['params']['kernel']", linen_params["params"]["kernel"]),
    ):

        def write(array=array):
            array[0, 0] = before[0, 0] + 1.0

        assert_raises(TypeError, write, what=f"{where}[0, 0] = ... on the shared kernel")
    host = np.asarray(shared)  # on CPU a read-only view; elsewhere a copy, which may be written
    if host.flags.writeable:
        host[...] += 1.0
    assert_equal_arrays(np.asarray(linear.kernel[...]), before, what="nnx kernel after the attempted writes")
    assert_equal_arrays(
        np.asarray(linen_params["params"]["kernel"]), before, what="Linen kernel after the attempted writes"
    )
