"""kit.pairs.equal_pairs finds exactly the pairs a comparison of every pair finds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.kit.pairs import equal_pairs


@settings(max_examples=200, deadline=None, database=None)
@given(
    n=st.integers(0, 12),
    width=st.integers(1, 4),
    dtype=st.sampled_from([np.float32, np.int32, bool]),
    seed=st.integers(0, 2**32 - 1),
)
def test_equal_pairs_are_the_pairs_that_compare_equal(n, width, dtype, seed):
    a = np.random.default_rng(seed).integers(0, 2, (n, width, 2)).astype(dtype)  # few values: many duplicates
    brute = [(i, j) for i in range(n) for j in range(i + 1, n) if np.array_equal(a[i], a[j])]
    assert equal_pairs(a) == brute, f"equal_pairs gave {equal_pairs(a)}, comparing every pair gives {brute}"


def test_signed_zeros_are_equal_as_in_array_equal():
    assert equal_pairs(np.array([[0.0], [-0.0], [1.0]], np.float32)) == [(0, 1)]
