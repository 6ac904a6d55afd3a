"""What ``--flax`` names, and a matrix's columns: one Flax build run with one jax.

A ``--flax`` item is ``WHAT[@JAX]``. WHAT is a release number (one with a pair
in ``compat.toml``), a wheel (``*.whl``), an sdist (``*.tar.gz``, ``*.zip``) or
a source directory (a Flax checkout). ``@JAX`` runs that build with
``jax==JAX`` and ``jaxlib==JAX``; an item without it runs once with each
version ``--jax`` lists, or, without ``--jax``, with:

1. the pair ``compat.toml`` records for the build's version (a release, or a
   local build of a listed version);
2. for a local build of another version, the newest jax that the build's own
   ``Requires-Dist`` allows among the versions this suite knows (every pair of
   the table and the lock's jax).

A local build is turned into a wheel (:mod:`.wheels`) kept under
``<cache>/builds/<content hash>/``; its environment is named and keyed by that
hash, so a changed build gets a fresh environment and an unchanged rebuild reuses
its old one. It is labelled by what it is: its version, plus the commit of a git
checkout (or the one its version carries), else the kind of build and the first
digits of its content hash.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from conformance.engine.runner import UsageError

from .pairs import Pair, canonical, missing_pair_message, requirement_name, requirements
from .wheels import WheelError, build_wheel, git_commit, read_wheel, requirement_of, version_commit

RELEASE, WHEEL, SDIST, DIRECTORY = "release", "wheel", "sdist", "directory"
_SDIST_SUFFIXES = (".tar.gz", ".zip")


@dataclass(frozen=True)
class Spec:
    text: str  # as given on the command line
    what: str  # a release number, or an absolute path
    kind: str
    jax: str | None  # from WHAT@JAX


@dataclass(frozen=True)
class Build:
    kind: str
    version: str  # Flax's version, as its metadata says
    source: str  # the release number or the path given
    wheel: str | None = None  # a local build's wheel, kept under the cache
    content: str | None = None  # a local build's content hash
    commit: str | None = None
    dirty: bool = False  # a git checkout with uncommitted changes
    requires_jax: str = ""  # a local build's specifier on jax

    @property
    def local(self) -> bool:
        return self.kind != RELEASE

    @property
    def label(self) -> str:
        if not self.local:
            return self.version
        digest = (self.content or "")[:8]
        if self.commit and self.kind == DIRECTORY:
            return f"{self.version} @ {self.commit[:10]}" + (f" (modified, {digest})" if self.dirty else "")
        if self.commit:  # the version already names it
            return self.version
        return f"{self.version} ({self.kind} {digest})"


@dataclass(frozen=True)
class Column:
    build: Build
    pair: Pair  # the jax/jaxlib (and extra pins) this column runs with
    jax_from: str  # where that jax came from, for the reports
    asked_as: str = ""  # the --flax item that asks for exactly this column (BUILD or BUILD@JAX)

    @property
    def label(self) -> str:
        return self.build.label

    @property
    def env_name(self) -> str:
        if not self.build.local:
            return f"flax-{self.build.version}-jax-{self.pair.jax}"
        return f"flax-{self.build.version}-local-{(self.build.content or '')[:12]}-jax-{self.pair.jax}"

    def requirements(self, lock: dict[str, str]) -> list[str]:
        flax = f"flax @ {Path(self.build.wheel).as_uri()}" if self.build.wheel else None
        return requirements(self.pair, lock, flax=flax)

    def constraints(self, lock: dict[str, str]) -> list[str]:
        """For a local build run with the lock's jax: the lock's versions of everything else it pulls in.

        Flax's other dependencies (optax, orbax-checkpoint, tensorstore, ...) then
        come from what ``make setup`` installed, not from the newest on PyPI, so
        the environment builds from uv's cache. With any other jax the resolver
        chooses them, since the lock's versions were chosen for its own jax.
        """
        if not self.build.local or lock.get("jax") != f"jax=={self.pair.jax}":
            return []
        named = {requirement_name(r) for r in self.requirements(lock)}
        return [pin for name, pin in sorted(lock.items()) if name not in named]


def parse_spec(text: str) -> Spec:
    what, jax = text, None
    head, at, tail = text.rpartition("@")
    if at and head and _is_version(tail):
        what, jax = head, tail
    path = Path(what).expanduser()
    if _is_version(what) and os.sep not in what and not path.exists():
        return Spec(text, what, RELEASE, jax)
    if path.is_dir():
        return Spec(text, str(path.resolve()), DIRECTORY, jax)
    if path.is_file() and path.name.endswith(".whl"):
        return Spec(text, str(path.resolve()), WHEEL, jax)
    if path.is_file() and path.name.endswith(_SDIST_SUFFIXES):
        return Spec(text, str(path.resolve()), SDIST, jax)
    if path.exists():
        raise UsageError(f"--flax {text}: not a wheel (.whl), an sdist (.tar.gz, .zip) or a directory")
    raise UsageError(f"--flax {text}: no such file or directory, and not a release number")


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return text[:1].isdigit()


def prepare(spec: Spec, cache: Path, uv: str) -> Build:
    """The build a spec names; a local one is built (if it is not a wheel) and kept under ``cache/builds``."""
    if spec.kind == RELEASE:
        return Build(RELEASE, spec.what, spec.what)
    source = Path(spec.what)
    builds = cache / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix=".incoming-", dir=builds) as tmp:
            made = source if spec.kind == WHEEL else build_wheel(source, Path(tmp), uv, cache / "logs" / "builds.log")
            info = read_wheel(made)
            if canonical(info.name) != "flax":
                raise UsageError(f"--flax {spec.text}: this is a build of {info.name}, not of flax")
            kept = builds / info.content[:16] / made.name
            if not kept.is_file():
                kept.parent.mkdir(parents=True, exist_ok=True)
                partial = Path(tmp, "copy.whl")
                shutil.copyfile(made, partial)
                os.replace(partial, kept)
    except WheelError as exc:
        raise UsageError(f"--flax {spec.text}: {exc}") from None
    found = git_commit(source) if spec.kind == DIRECTORY else None
    commit, dirty = found if found else (version_commit(info.version), False)
    return Build(
        spec.kind,
        info.version,
        spec.what,
        wheel=str(kept),
        content=info.content,
        commit=commit,
        dirty=dirty,
        requires_jax=requirement_of(info.requires, "jax"),
    )


def plan(
    built: list[tuple[Spec, Build]], jax: list[str] | None, table: dict[str, Pair], lock: dict[str, str]
) -> list[Column]:
    """One column per build and jax, in the order given; a repeated (label, jax) runs once."""
    columns: dict[tuple[str, str], Column] = {}
    for spec, build in built:
        for version in [spec.jax] if spec.jax else (jax or [None]):
            column = _column(build, version, table, lock, spec.text)
            asked = spec.text if spec.jax or version is None else f"{spec.text}@{version}"
            columns.setdefault((column.label, column.pair.jax), replace(column, asked_as=asked))
    return list(columns.values())


def _column(build: Build, jax: str | None, table: dict[str, Pair], lock: dict[str, str], text: str) -> Column:
    listed = table.get(build.version)
    if jax is not None:
        base = listed or Pair(build.version, jax, jax)
        note = base.note if listed and listed.jax == jax else f"jax {jax} from the command line"
        return Column(build, replace(base, jax=jax, jaxlib=jax, note=note), "command line")
    if listed is not None:
        return Column(build, listed, "compat.toml")
    if not build.local:
        raise UsageError(missing_pair_message(build.version, list(table)))
    chosen = _newest_allowed(build.requires_jax, table, lock)
    if chosen is None:
        raise UsageError(
            f"--flax {text}: flax {build.version} asks for jax{build.requires_jax or ' (any)'} and no jax this "
            f"suite knows (compat.toml, requirements.lock) fits; name one with --jax or {text}@JAX"
        )
    note = f"jax {chosen}: the newest known release its requirement jax{build.requires_jax} allows"
    return Column(build, Pair(build.version, chosen, chosen, note=note), "the build's requirement")


def _newest_allowed(requirement: str, table: dict[str, Pair], lock: dict[str, str]) -> str | None:
    try:
        allowed = SpecifierSet(requirement)
    except InvalidSpecifier:
        return None
    known = {p.jax for p in table.values()}
    if "jax" in lock:
        known.add(lock["jax"].split("==", 1)[-1])
    fitting = [v for v in known if _is_version(v) and Version(v) in allowed]
    return max(fitting, key=Version, default=None)
