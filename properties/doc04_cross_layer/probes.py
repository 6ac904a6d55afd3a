"""Probe parameters for document 04's block: chosen values put into the implementation's own tree.

A probe isolates one piece of the block (the GELU, the LayerNorm epsilon) by
zeroing or fixing the others, then writes those values wherever the
implementation keeps each piece (found by :func:`roles.block_roles`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import calls, layout, roles


def probe_params(impl, c, values: layout.BlockParams):
    """The implementation's block params holding ``values`` (both LayerNorms get norm1's values,
    so that the probe does not depend on which of the two is LN1)."""
    found = roles.block_roles(impl, c.dims)
    return found.write(
        calls.param_shapes(impl, "TransformerBlock", c.dims), dataclasses.replace(values, norm2=values.norm1)
    )


def zeros_attention(d: int, heads: int) -> dict:
    hd = d // heads
    proj = (np.zeros((d, heads, hd)), np.zeros((heads, hd)))
    return dict(query=proj, key=proj, value=proj, out=(np.zeros((heads, hd, d)), np.zeros(d)))


GELU_PROBE = np.array([-3.0, -2.2, -1.5, -0.7, 0.4, 1.1, 2.0, 2.6])


def as_float32(values: layout.BlockParams) -> layout.BlockParams:
    cast = lambda pair: tuple(np.asarray(a, np.float32).astype(np.float64) for a in pair)  # noqa: E731
    return layout.BlockParams(**{f: cast(getattr(values, f)) for f in layout.BlockParams.__dataclass_fields__})


EPS_PROBE_SCALE = 10**-2.5  # sqrt(1e-5): LayerNorm scale that makes the second norm's input variance ~ eps
