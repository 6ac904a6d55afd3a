"""What the document-04 tests share: abstract params of a model, and implementations made on the spot."""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

import jax
import jax.numpy as jnp
from conformance.properties.doc04_cross_layer.strategies import Case

from conformance.engine.loading import Implementation, load_implementation

USERS = Path(__file__).resolve().parent / "users"
_spec = importlib.util.spec_from_file_location("packed_attention", USERS / "packed_attention.py")
packed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(packed)


def shapes_of(model, c):
    return jax.eval_shape(model.init, jax.random.PRNGKey(0), jax.ShapeDtypeStruct(c.x_shape, jnp.float32))["params"]


def impl_of(name, **exports):
    """An implementation: a module of the repo by name, or a module called ``name`` made of ``exports``."""
    if not exports:
        return load_implementation(name)
    module = types.ModuleType(name)
    module.__dict__.update(exports)
    return Implementation(target=name, name=name, module=module, path=None)


# Fixed sizes for the tests of reading and numerics (the pool's cases change with the ranges): two layers and
# two heads, and the deep case of earlier pools (head size 2, where a per-head fused projection is hard to read).
SMALL = Case(num_layers=2, d_model=4, num_heads=2, d_ff=8, batch=2, seq=3)
DEEP = Case(num_layers=8, d_model=8, num_heads=4, d_ff=14, batch=4, seq=3)
