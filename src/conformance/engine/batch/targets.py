"""What ``--impl`` names, expanded into implementations: files, packages, folders and dotted modules.

- a ``.py`` file is one implementation, named after its stem;
- a package's ``__init__.py`` is one implementation (the package), named after its folder;
- a folder is a set of implementations: each ``.py`` file and each package (a subfolder
  holding ``__init__.py``) directly inside it. Skipped, and listed as skipped: names that
  start with ``_`` or ``.`` (private helpers such as ``_common.py``, ``__init__.py``,
  ``__pycache__``), subfolders without ``__init__.py``, and files that are not Python.
  Folders are not searched recursively;
- anything else is a dotted module name (``mypkg.solution``), imported as it is.

Names identify an implementation in the report; two that would share one are told apart by
the folders above them (``alice/solution``, ``bob/solution``). Nothing is imported here: an
implementation is untrusted code, and only the task that checks it imports it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class TargetError(Exception):
    """An ``--impl`` argument that names nothing usable; the message is one line."""


@dataclass(frozen=True)
class Target:
    name: str  # unique within a run: the key of the implementation in the report
    spec: str  # what the loader takes: a dotted module name, or a path to a .py file (a package's __init__.py)


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def _is_path(arg: str) -> bool:
    return arg.endswith(".py") or os.sep in arg or "/" in arg or os.path.exists(arg)


def _private(name: str) -> bool:
    return name.startswith(("_", "."))


def _from_folder(folder: Path) -> tuple[list[Path], list[Skipped]]:
    found, skipped = [], []
    for entry in sorted(folder.iterdir()):
        if _private(entry.name):
            skipped.append(Skipped(str(entry), "private: the name starts with _ or ."))
        elif entry.is_dir():
            if (entry / "__init__.py").is_file():
                found.append(entry / "__init__.py")
            else:
                skipped.append(Skipped(str(entry), "a folder without __init__.py (folders are not searched)"))
        elif entry.suffix == ".py":
            found.append(entry)
        else:
            skipped.append(Skipped(str(entry), "not a Python file"))
    return found, skipped


def _module_path(arg: str) -> Path:
    path = Path(arg).expanduser()
    if not path.exists():
        raise TargetError(f"--impl {arg}: no such file or folder")
    if path.is_file() and path.suffix != ".py":
        raise TargetError(f"--impl {arg}: not a Python file (give a .py file, a package's __init__.py or a folder)")
    return path.resolve()


def _parts(path_or_module: str) -> list[str]:
    """Name parts, innermost last: a package is named after its folder, a file after its stem."""
    if not _is_path(path_or_module):
        return path_or_module.split(".")
    path = Path(path_or_module)
    parts = list(path.parent.parts if path.name == "__init__.py" else path.with_suffix("").parts)
    return [p for p in parts if p not in ("", os.sep)]


def _unique_names(specs: list[str]) -> list[str]:
    """The innermost name part, with as many outer parts as it takes to tell specs apart."""
    parts = [_parts(s) for s in specs]
    depth = [1] * len(specs)
    while True:
        names = [("/" if _is_path(s) else ".").join(p[-d:]) for s, p, d in zip(specs, parts, depth)]
        clashes = {n for n in names if names.count(n) > 1}
        grow = [i for i, n in enumerate(names) if n in clashes and depth[i] < len(parts[i])]
        if not grow:
            return names
        for i in grow:
            depth[i] += 1


def expand(args: list[str]) -> tuple[list[Target], list[Skipped]]:
    """The implementations ``--impl`` arguments name, in the order given, each once; and what was skipped."""
    specs: list[str] = []
    skipped: list[Skipped] = []
    for arg in args:
        if not _is_path(arg):
            specs.append(arg)
            continue
        path = _module_path(arg)
        if path.is_dir():
            found, left = _from_folder(path)
            if not found:
                raise TargetError(
                    f"--impl {arg}: the folder holds no .py file or package (see --help for what is read)"
                )
            specs += [str(p) for p in found]
            skipped += left
        else:
            specs.append(str(path))
    unique = list(dict.fromkeys(specs))
    return [Target(name, spec) for name, spec in zip(_unique_names(unique), unique)], skipped
