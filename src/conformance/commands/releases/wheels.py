"""Local Flax builds: a wheel from an sdist or a source tree, and what a wheel is (content, metadata, commit).

A source tree or an sdist is built into a wheel with ``uv build``. Where the
interpreter running the suite already has the build backend the tree asks for
(``make setup`` installs setuptools and setuptools-scm, which Flax builds with),
the build uses it (``--no-build-isolation``): no network, about 2 s. Otherwise
uv fetches the backend from PyPI into an isolated build environment.

A source tree is copied before it is built, so that the build leaves nothing in
a user's checkout: from a git checkout, the files git tracks and the new files it
does not ignore (what the next commit would hold); from any other tree (an
unpacked sdist), everything but caches, environments and the top-level
``build/`` and ``dist/``. An unpacked sdist keeps its ``*.egg-info``, the file
list it was made with, so it builds into the very wheel its sdist does.

A wheel's **content hash** covers what an environment would run: every file
outside ``*.dist-info`` and the metadata that decides what is installed with it
(name, version, ``Requires-Dist``, ``Requires-Python``, entry points). Build
tool stamps (``WHEEL``, ``RECORD``, zip timestamps) are left out, so the wheel
PyPI serves and one built from the matching sdist share an environment, while
any change to the code gives a fresh one.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

# Nothing of these reaches a wheel: version control, caches, environments (and, at the top, build outputs).
_NEVER_COPIED = shutil.ignore_patterns(".git", ".hg", "__pycache__", "*.pyc", ".venv", ".tox", ".nox", ".conformance")
_NOT_COPIED_AT_TOP = {"build", "dist"}
_METADATA_FIELDS = ("Name", "Version", "Requires-Dist", "Requires-Python")
# A commit carried in a version string: 0.13.0.dev5+g1a2b3c4 (setuptools-scm), 0.12.9+1a2b3c4d.
_VERSION_COMMIT = re.compile(r"\+(?:.*\.)?g?([0-9a-f]{7,40})(?:\.|$)")


class WheelError(Exception):
    """A local build could not be made or read; the message says which file and why."""


@dataclass(frozen=True)
class WheelInfo:
    name: str
    version: str
    requires: tuple[str, ...]  # Requires-Dist without extras markers
    content: str  # sha256 of what an environment runs (module docstring)


def read_wheel(path: Path) -> WheelInfo:
    try:
        with zipfile.ZipFile(path) as whl:
            names = sorted(whl.namelist())
            meta_name = next((n for n in names if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)), None)
            if meta_name is None:
                raise WheelError(f"{path} has no *.dist-info/METADATA: not a wheel")
            meta = HeaderParser().parsestr(whl.read(meta_name).decode("utf-8", "replace"))
            digest = hashlib.sha256()
            for name in names:
                if name.split("/", 1)[0].endswith(".dist-info"):
                    if name.endswith("/entry_points.txt"):
                        digest.update(name.encode() + b"\0" + whl.read(name))
                    continue
                if not name.endswith("/"):
                    digest.update(name.encode() + b"\0" + hashlib.sha256(whl.read(name)).digest())
    except (OSError, zipfile.BadZipFile) as exc:
        raise WheelError(f"cannot read the wheel {path}: {exc}") from None
    for field in _METADATA_FIELDS:
        for value in sorted(meta.get_all(field) or []):
            digest.update(f"{field}: {value}\n".encode())
    if not meta.get("Name") or not meta.get("Version"):
        raise WheelError(f"{path}: its METADATA names no Name or Version")
    requires = tuple(r for r in (meta.get_all("Requires-Dist") or []) if "extra ==" not in r.replace("'", '"'))
    return WheelInfo(meta["Name"], meta["Version"], requires, digest.hexdigest())


def requirement_of(requires: tuple[str, ...], name: str) -> str:
    """The specifier a build puts on ``name`` (``>=0.10.0``), '' when it names it without one or not at all."""
    for text in requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.name.lower() == name:
            return str(req.specifier)
    return ""


def version_commit(version: str) -> str | None:
    m = _VERSION_COMMIT.search(version)
    return m.group(1) if m else None


def git_commit(tree: Path) -> tuple[str, bool] | None:
    """(HEAD, has uncommitted changes) when ``tree`` is the top of a git checkout; None otherwise.

    A tree that merely sits inside another repository (an unpacked sdist under
    this project's ``.conformance/``) has no commit of its own.
    """
    git = shutil.which("git")
    if git is None:
        return None

    def run(*args: str) -> str | None:
        done = subprocess.run([git, "-C", str(tree), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    top = run("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != tree.resolve():
        return None
    head = run("rev-parse", "HEAD")
    if head is None:
        return None
    dirty = run("status", "--porcelain", "--untracked-files=no")
    return head, bool(dirty)


def _build_requires(pyproject: str | None) -> list[str]:
    if pyproject is None:  # PEP 517's default for a tree without pyproject.toml
        return ["setuptools>=40.8.0"]
    try:
        return list(tomllib.loads(pyproject).get("build-system", {}).get("requires", ["setuptools>=40.8.0"]))
    except tomllib.TOMLDecodeError as exc:
        raise WheelError(f"pyproject.toml cannot be read: {exc}") from None


def _pyproject_of(source: Path) -> str | None:
    if source.is_dir():
        path = source / "pyproject.toml"
        return path.read_text() if path.is_file() else None
    try:
        with tarfile.open(source) as tar:
            member = next((m for m in tar.getmembers() if re.fullmatch(r"[^/]+/pyproject\.toml", m.name)), None)
            data = tar.extractfile(member) if member is not None else None
            return data.read().decode() if data is not None else None
    except (OSError, tarfile.TarError) as exc:
        raise WheelError(f"cannot read the sdist {source}: {exc}") from None


def backend_is_here(requires: list[str]) -> bool:
    """Whether this interpreter already satisfies every build requirement (then no isolated build is needed)."""
    for text in requires:
        try:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate():
                continue
            if not req.specifier.contains(metadata.version(req.name), prereleases=True):
                return False
        except (InvalidRequirement, metadata.PackageNotFoundError):
            return False
    return True


def copy_tree(source: Path, target: Path) -> None:
    """Copy what a build of ``source`` should see into ``target`` (the module docstring says what that is)."""
    listed = _git_files(source)
    if listed is None:

        def ignore(folder: str, names: list[str]) -> set[str]:
            top = _NOT_COPIED_AT_TOP if Path(folder) == source else set()
            return set(_NEVER_COPIED(folder, names)) | (top & set(names))

        shutil.copytree(source, target, ignore=ignore, symlinks=True)
        return
    for relative in listed:
        origin = source / relative
        if not origin.is_file() and not origin.is_symlink():  # tracked but deleted in the working tree
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, target / relative, follow_symlinks=False)


def _git_files(tree: Path) -> list[str] | None:
    if git_commit(tree) is None:
        return None
    done = subprocess.run(
        ["git", "-C", str(tree), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
    )
    return [f for f in done.stdout.decode().split("\0") if f] if done.returncode == 0 else None


def build_wheel(source: Path, out_dir: Path, uv: str, log: Path) -> Path:
    """Build ``source`` (an sdist or a source tree) into one wheel in ``out_dir``; return its path."""
    isolated = not backend_is_here(_build_requires(_pyproject_of(source)))
    out_dir.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="conformance-build-") as tmp:
        target = source
        if source.is_dir():
            target = Path(tmp, "src")
            copy_tree(source, target)
        step = [uv, "build", "--wheel", "--out-dir", str(Path(tmp, "out")), "--python", sys.executable]
        step += [] if isolated else ["--no-build-isolation"]
        step.append(str(target))
        done = subprocess.run(step, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        with open(log, "a") as out:
            out.write(f"$ {' '.join(step)}\n{done.stdout}")
        wheels = sorted(Path(tmp, "out").glob("*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            tail = " ".join(done.stdout.strip().splitlines()[-3:]) or "no output"
            raise WheelError(f"building a wheel from {source} failed (log: {log}): {tail}")
        built = out_dir / wheels[0].name
        shutil.move(wheels[0], built)
    return built
