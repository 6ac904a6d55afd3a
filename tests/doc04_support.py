"""What the document-04 tests share: abstract params of a model, and implementations made on the spot."""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

import jax
import jax.numpy as jnp

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
