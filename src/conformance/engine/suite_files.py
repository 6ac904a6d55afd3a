"""The suite's files on disk, hashed, so that an edit made during a run is noticed.

An implementation can rewrite a property module, an oracle, a tolerance or the
plugin on disk before the worker that judges it imports them (or for the next
run). The controlling process, which never imports the implementation, hashes
the judge's files before anything else runs and compares them as verdicts
arrive (sizes and times, cheap) and at the end (contents): the sources and
``claims.toml``/``expectations.toml`` of ``conformance`` (the bundled
implementations aside) and of the catalogue, and the cached bytecode of every
module the judge had imported by then (Python runs a ``.pyc`` whose header
matches its source without reading the source; one rewritten by another
process for the unchanged source is fine, runs share a checkout).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import marshal
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from conformance.engine.registry import properties_dir
from conformance.engine.tamper import is_suite_module

_SOURCES = ("*.py", "*.toml")


def suite_roots() -> list[Path]:
    """The folders of the judge's files: the ``conformance`` package and the catalogue (apart in a checkout)."""
    package = Path(__file__).resolve().parents[1]  # this file is conformance/engine/suite_files.py
    catalogue = properties_dir().resolve()
    return [package] if catalogue.is_relative_to(package) else [package, catalogue]


def _judged_code() -> list[Path]:
    """The bundled implementations' folder: their files are judged, not part of the judge."""
    bundled = importlib.import_module("conformance.implementations")
    return [Path(p).resolve() for p in bundled.__path__]


def _cached_bytecode() -> list[Path]:
    """The ``.pyc`` of every suite module imported in this process, where Python keeps one."""
    out = []
    for name, module in list(sys.modules.items()):
        source = getattr(module, "__file__", None)
        if is_suite_module(name) and source and source.endswith(".py"):
            try:
                out.append(Path(importlib.util.cache_from_source(source)))
            except NotImplementedError:  # sys.implementation.cache_tag is None
                continue
    return out


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass
class SuiteFiles:
    """The judge's files when :meth:`take` ran: path -> (stat, sha256), ``None`` for an absent ``.pyc``."""

    roots: list[Path]
    files: dict[Path, tuple[tuple[int, int, int] | None, str | None]]

    @classmethod
    def take(cls) -> SuiteFiles:
        roots = suite_roots()
        skip = _judged_code()
        paths = {
            p
            for root in roots
            for pattern in _SOURCES
            for p in root.rglob(pattern)
            if not any(p.resolve().is_relative_to(s) for s in skip)
        }
        paths |= set(_cached_bytecode())
        return cls(roots, {p: (_stat(p), _digest(p)) for p in sorted(paths)})

    def _new_sources(self) -> list[Path]:
        skip = _judged_code()
        return sorted(
            p
            for root in self.roots
            for pattern in _SOURCES
            for p in root.rglob(pattern)
            if p not in self.files and not any(p.resolve().is_relative_to(s) for s in skip)
        )

    def touched(self) -> list[str]:
        """Files whose size, modification time or inode changed (no source is read): cheap, after every verdict."""
        return [
            f"{_where(p)} was {_how(p)}" for p, (st, _) in self.files.items() if _stat(p) != st and not _recompiled(p)
        ]

    def changes(self) -> list[str]:
        """Files whose contents changed, appeared or went away: what the end of a run checks."""
        out = [
            f"{_where(p)} was {_how(p)}"
            for p, (_, digest) in self.files.items()
            if _digest(p) != digest and not _recompiled(p)
        ]
        out += [f"{_where(p)} was created" for p in self._new_sources()]
        return out


def _recompiled(path: Path) -> bool:
    """A ``.pyc`` that another process wrote for the unchanged source (runs share a checkout), or one Python
    will not load (its header does not match the source): either is harmless. Whatever Python would load
    instead of the source must hold exactly the source's code."""
    if path.suffix != ".pyc":
        return False
    try:
        source = Path(importlib.util.source_from_cache(str(path)))
        data, text = path.read_bytes(), source.read_bytes()
        st = source.stat()
    except (OSError, ValueError):
        return not path.exists()  # a cache removed (or never written) is read from source
    flags = int.from_bytes(data[4:8], "little") if len(data) >= 16 else -1
    if data[:4] != importlib.util.MAGIC_NUMBER or flags not in (0, 1, 3):
        return True  # not a cache this Python reads: it compiles the source instead
    if flags == 0:  # keyed by the source's modification time and size
        stale = data[8:12] != (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") or data[12:16] != (
            st.st_size & 0xFFFFFFFF
        ).to_bytes(4, "little")
    else:  # keyed by the source's hash
        stale = data[8:16] != importlib.util.source_hash(text)
    if stale:
        return True
    try:
        return marshal.loads(data[16:]) == compile(text, str(source), "exec", dont_inherit=True)
    except Exception:  # a cache that does not even load is a tampered one
        return False


def _where(path: Path) -> str:
    return os.fspath(path)


def _how(path: Path) -> str:
    return "deleted" if not path.exists() else "written"
