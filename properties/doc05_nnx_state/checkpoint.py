"""Saving an nnx module's state to bytes and restoring it into another module, as a checkpoint does.

The state is flattened by path, each leaf written with Flax's msgpack serialization,
and restored with nnx.update into a module built separately (as a new process would
rebuild it from code). A leaf the saved state lacks keeps the value the module was
built with. Works on every release: it needs only nnx.state, nnx.update and JAX's
pytree paths, not a release's own pure-dict helpers.
"""

from __future__ import annotations

import flax.serialization
import jax
import numpy as np
from flax import nnx


def save(module: nnx.Module) -> bytes:
    leaves, _ = jax.tree_util.tree_flatten_with_path(nnx.state(module))
    return flax.serialization.msgpack_serialize({jax.tree_util.keystr(p): np.asarray(v) for p, v in leaves})


def saved_paths(blob: bytes) -> list[str]:
    return sorted(flax.serialization.msgpack_restore(blob))


def restore(module: nnx.Module, blob: bytes) -> None:
    saved = flax.serialization.msgpack_restore(blob)
    state = jax.tree_util.tree_map_with_path(lambda p, v: saved.get(jax.tree_util.keystr(p), v), nnx.state(module))
    nnx.update(module, state)
