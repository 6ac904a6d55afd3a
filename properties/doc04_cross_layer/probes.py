"""Probe parameters for document 04's block: chosen values put into the implementation's own tree.

A probe isolates one piece of the block (the GELU, the LayerNorm epsilon) by
zeroing or fixing the others, then writes those values wherever the
implementation keeps each piece (found by :func:`.layout.block_roles`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import calls, layout
from .params import BlockParams

GELU_PROBE = np.array([-3.0, -2.2, -1.5, -0.7, 0.4, 1.1, 2.0, 2.6])
EPS_PROBE_SCALE = 10**-2.5  # sqrt(1e-5): LayerNorm scale that makes the second norm's input variance ~ eps


def probe_params(impl, c, values: BlockParams):
    """The implementation's block params holding ``values`` (both LayerNorms get norm1's values,
    so that the probe does not depend on which of the two is LN1)."""
    found = layout.block_roles(impl, c.dims)
    return found.write(
        calls.param_shapes(impl, "TransformerBlock", c.dims), dataclasses.replace(values, norm2=values.norm1)
    )


def zeros_attention(d: int, heads: int) -> dict:
    hd = d // heads
    proj = (np.zeros((d, heads, hd)), np.zeros((heads, hd)))
    return {"query": proj, "key": proj, "value": proj, "out": (np.zeros((heads, hd, d)), np.zeros(d))}
