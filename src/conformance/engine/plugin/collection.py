"""Collecting the catalogue under its installed names, wherever its files are.

pytest names a test module after its path (``properties.doc01...`` in a
checkout, something else in site-packages); the registry imports the same
files as ``conformance.properties.doc01_shared_dense...``. Two names would be two modules
and every property registered twice, so files of the catalogue are imported
by their package name, and its folders are plain directories (a pytest
Package would import each ``__init__.py`` by path as well).
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

import pytest

from conformance.engine.registry import PROPERTIES_PACKAGE, properties_dir


@functools.cache
def _catalogue_root() -> Path:
    return properties_dir().resolve()


def _module_name(path: Path) -> str | None:
    """``conformance.properties.doc01_shared_dense.test_shared_dense`` for a file of the catalogue."""
    try:
        relative = path.resolve().relative_to(_catalogue_root())
    except ValueError:
        return None
    return ".".join(
        [PROPERTIES_PACKAGE, *relative.parent.parts, relative.stem] if relative.parts else [PROPERTIES_PACKAGE]
    )


class CatalogueModule(pytest.Module):
    def _getobj(self):
        return importlib.import_module(_module_name(self.path))


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _module_name(path) is not None:
        return pytest.Dir.from_parent(parent, path=path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if _module_name(module_path) is not None:
        return CatalogueModule.from_parent(parent, path=module_path)
    return None
