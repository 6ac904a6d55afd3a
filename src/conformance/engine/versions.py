"""Versions of the stack under test, for report headers."""

from __future__ import annotations

import platform
from importlib import metadata

PACKAGES = ("jax", "jaxlib", "flax", "hypothesis", "numpy")


def installed_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def flax_version() -> str:
    return metadata.version("flax")
