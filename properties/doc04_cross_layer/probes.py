"""Probe parameters for document 04's block: chosen values put into the implementation's own tree.

A probe isolates one piece of the block (the GELU, the LayerNorm epsilon) by
zeroing or fixing the others, then writes those values wherever the
implementation keeps each piece (found by :func:`layout.census`).
"""

from __future__ import annotations

import numpy as np

from conformance.kit import trees

from . import calls, layout


def probe_params(impl, c, values: layout.BlockParams):
    """The implementation's block params holding ``values`` (both LayerNorms get norm1's values)."""
    shapes = calls.param_shapes(impl, "TransformerBlock", c.dims)
    cen = layout.census(shapes, *c.dims)
    layout.require_block_pieces(cen, *c.dims)
    tree = shapes
    pieces = {"fc1": values.fc1, "fc2": values.fc2}
    for piece, (kernel, bias) in pieces.items():
        tree = trees.set_paths(tree, [cen.found[piece][0][0]], {"kernel": kernel.astype(np.float32), "bias": bias.astype(np.float32)})
    tree = trees.set_paths(tree, [p for p, _, _ in cen.found["norm"]],
                        {"scale": values.norm1[0].astype(np.float32), "bias": values.norm1[1].astype(np.float32)})
    att = {n: {"kernel": getattr(values, n)[0].astype(np.float32), "bias": getattr(values, n)[1].astype(np.float32)}
           for n in ("query", "key", "value", "out")}
    return trees.set_paths(tree, [cen.found["attention"][0][0]], att)


def zeros_attention(d: int, heads: int) -> dict:
    hd = d // heads
    proj = (np.zeros((d, heads, hd)), np.zeros((heads, hd)))
    return dict(query=proj, key=proj, value=proj, out=(np.zeros((heads, hd, d)), np.zeros(d)))


GELU_PROBE = np.array([-3.0, -2.2, -1.5, -0.7, 0.4, 1.1, 2.0, 2.6])


def as_float32(values: layout.BlockParams) -> layout.BlockParams:
    cast = lambda pair: tuple(np.asarray(a, np.float32).astype(np.float64) for a in pair)  # noqa: E731
    return layout.BlockParams(**{f: cast(getattr(values, f)) for f in layout.BlockParams.__dataclass_fields__})


EPS_PROBE_SCALE = 10 ** -2.5  # sqrt(1e-5): LayerNorm scale that makes the second norm's input variance ~ eps
