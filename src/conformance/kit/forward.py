"""Calling the contract's forward functions, ``export(seed, x, size)``, the one way every document does."""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.kit.assertions import as_output


def call(
    impl: Any, export: str, seed: int, x: np.ndarray, size: int, *, shape: tuple[int, ...], as_float: bool = False
) -> np.ndarray:
    """``impl``'s ``export(seed, x, size)``, checked to be a finite float array of ``shape``.

    The documents' signatures leave ``seed`` and ``size`` untyped and their solutions cast them
    with ``int()``, so the contract lets them arrive as floats: ``as_float`` passes them so.
    """
    args = (float(seed), x, float(size)) if as_float else (seed, x, size)
    return as_output(impl.call(export, *args), what=export, shape=shape)
