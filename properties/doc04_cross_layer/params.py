"""One block's parameters in the suite's own layout: what :mod:`.reading` produces and :mod:`.numerics` consumes.

The layout mirrors Flax's modules: query/key/value kernel ``(d, H, hd)``, bias
``(H, hd)``; out kernel ``(H, hd, d)``, bias ``(d,)``; fc1 and fc2 as Dense
``(in, out)`` kernels with biases; norm1 and norm2 as (scale, bias). Values
are float64 copies of the float32 parameters an implementation holds.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class BlockParams:
    query: tuple[np.ndarray, np.ndarray]
    key: tuple[np.ndarray, np.ndarray]
    value: tuple[np.ndarray, np.ndarray]
    out: tuple[np.ndarray, np.ndarray]
    fc1: tuple[np.ndarray, np.ndarray]
    fc2: tuple[np.ndarray, np.ndarray]
    norm1: tuple[np.ndarray, np.ndarray]
    norm2: tuple[np.ndarray, np.ndarray]

    @property
    def heads(self) -> int:
        return int(self.query[1].shape[0])

    @property
    def head_dim(self) -> int:
        return int(self.query[1].shape[1])

    def arrays(self) -> tuple[np.ndarray, ...]:
        """Every array, in field order (kernel before bias, scale before bias)."""
        return tuple(a for f in fields(self) for a in getattr(self, f.name))

    def as_float32(self) -> BlockParams:
        """The same values rounded to float32 (and held in float64), as an implementation would store them."""
        return BlockParams(
            **{
                f.name: tuple(np.asarray(a, np.float32).astype(np.float64) for a in getattr(self, f.name))
                for f in fields(self)
            }
        )
