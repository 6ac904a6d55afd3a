"""Flax mutant: flax.serialization restores float32 arrays through bfloat16 (right dtype, fewer bits)."""

import flax.serialization
import jax.numpy as jnp
import numpy as np

DOCUMENT = "03"
DEFECT = "msgpack_restore rounds float32 arrays to bfloat16 precision"
CAUGHT_BY = ("03-fw-nnx-reproduces-linen",)


def patch(mp):
    restore = flax.serialization.msgpack_restore

    def lossy(node):
        if isinstance(node, dict):
            return {k: lossy(v) for k, v in node.items()}
        if isinstance(node, np.ndarray) and node.dtype == np.float32:
            return node.astype(jnp.bfloat16).astype(np.float32)
        return node

    mp.setattr(flax.serialization, "msgpack_restore", lambda encoded: lossy(restore(encoded)))
