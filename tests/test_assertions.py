"""Failure messages of the tree assertions say where the trees differ."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from conformance.kit.assertions import assert_tree_shapes


def _abstract(*shape):
    return jax.ShapeDtypeStruct(shape, np.float32)


def test_matching_tree_passes():
    tree = {"params": {"shared": {"kernel": _abstract(3, 3), "bias": _abstract(3)}}}
    assert_tree_shapes(tree, {"params": {"shared": {"kernel": (3, 3), "bias": (3,)}}}, what="SharedDense")


def test_a_leaf_of_another_shape_is_named_by_its_path():
    tree = {"params": {"kernel": _abstract(4, 3, 2), "bias": _abstract(4, 2)}}
    with pytest.raises(AssertionError) as info:
        assert_tree_shapes(tree, {"params": {"kernel": (3, 2), "bias": (2,)}}, what="VmappedDense")
    message = str(info.value)
    assert message.startswith("VmappedDense: ") and "params/bias" in message and "(4, 2) != (2,)" in message, message


def test_other_keys_show_both_trees():
    tree = {"params": {"Dense_0": {"kernel": _abstract(3, 3)}, "Dense_1": {"kernel": _abstract(3, 3)}}}
    with pytest.raises(AssertionError) as info:
        assert_tree_shapes(tree, {"params": {"shared": {"kernel": (3, 3)}}}, what="SharedDense")
    message = str(info.value)
    assert "Dense_1" in message and "'shared'" in message and "expected" in message, message
