"""The docs cannot drift from the code: generated README tables are current, and every name they cite exists.

- The README's tables that mirror the code (claims coverage, divergences, profiles, catalogue sizes)
  are generated (``make docs``); the test renders them again and compares.
- Every module, attribute and repository file that a docstring, comment, the README or CONTRIBUTING
  names (``conformance.kit.drift``, ``:mod:`.numerics.drift```, ``properties/doc04_cross_layer/...``)
  exists. Names are resolved from the files, never by importing: an optional third-party adapter
  counts as existing without its library installed.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest
from conftest import REPO

from conformance.commands import readme

ROOTS = {
    "conformance": REPO / "src" / "conformance",
    "conformance.properties": REPO / "properties",
    "conformance.implementations": REPO / "implementations",
}
DOCS = ("README.md", "CONTRIBUTING.md")
# Names in prose that stand for a file a contributor creates, not one that exists.
PLACEHOLDER = re.compile(r"NN|_short_name|<")


def test_the_readme_tables_that_mirror_the_code_are_current():
    _, stale, unknown = readme.render((REPO / "README.md").read_text())
    assert not unknown, f"README.md has generated blocks with no generator: {unknown}"
    assert not stale, f"README.md's generated blocks {stale} differ from the code: run `make docs`"


def test_the_readme_has_every_generated_block():
    text = (REPO / "README.md").read_text()
    missing = [name for name in readme.BLOCKS if f"<!-- begin generated: {name} (make docs) -->" not in text]
    assert not missing, f"README.md lacks the generated blocks {missing}"


def test_a_stale_block_is_noticed():
    text = (REPO / "README.md").read_text()
    start = text.index("<!-- begin generated: claims-coverage (make docs) -->")
    edited = text[:start] + text[start:].replace("| all |", "| all | 1 |", 1)
    _, stale, _ = readme.render(edited)
    assert stale == ["claims-coverage"], stale


def _file_of(dotted: str) -> tuple[Path, list[str]] | None:
    """The source file of the longest module prefix of ``dotted``, and the attribute path after it."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        for top, root in sorted(ROOTS.items(), key=lambda kv: -len(kv[0])):
            if name == top or name.startswith(top + "."):
                rel = Path(*name[len(top) :].lstrip(".").split(".")) if name != top else Path()
                for candidate in (root / rel / "__init__.py", (root / rel).with_suffix(".py")):
                    if (str(rel) != "." or candidate.name == "__init__.py") and candidate.is_file():
                        return candidate, parts[i:]
                break
    return None


@functools.cache
def _top_level_names(path: Path) -> frozenset[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return frozenset(names)


def _resolves(dotted: str) -> bool:
    found = _file_of(dotted)
    if found is None:
        return False
    path, attrs = found
    return not attrs or attrs[0] in _top_level_names(path)


def _module_name(path: Path) -> str:
    for top, root in sorted(ROOTS.items(), key=lambda kv: -len(kv[0])):
        if path.is_relative_to(root):
            parts = [*top.split("."), *path.relative_to(root).with_suffix("").parts]
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise ValueError(path)


def _sources() -> list[Path]:
    return sorted(p for root in ROOTS.values() for p in root.rglob("*.py"))


def _cited(text: str, package: str | None) -> list[str]:
    """Dotted module/attribute names cited in ``text`` (relative Sphinx roles resolved against ``package``)."""
    cited = [m.group(1).rstrip(".") for m in re.finditer(r"(?<![\w/.])(conformance(?:\.\w+)+)", text)]
    if package is not None:
        for m in re.finditer(r":(?:mod|func|class|data|meth|attr):`~?(\.+)([\w.]*)`", text):
            dots, rest = m.group(1), m.group(2)
            base = package.split(".")[: len(package.split(".")) - len(dots) + 1]
            cited.append(".".join(base + ([rest] if rest else [])))
    return [c for c in cited if not PLACEHOLDER.search(c)]


def _paths(text: str) -> list[str]:
    found = re.findall(r"(?<![\w/.-])((?:src|properties|tests|implementations|docs|\.ci)/[\w/.-]*\w)", text)
    return [p for p in found if not PLACEHOLDER.search(p)]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_name_a_module_cites_exists(path):
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    text = path.read_text()
    missing = [c for c in _cited(text, package) if not _resolves(c)]
    missing += [p for p in _paths(text) if not (REPO / p).exists() and not any(REPO.glob(p + ".*"))]
    assert not missing, f"{path.relative_to(REPO)} names what does not exist: {sorted(set(missing))}"


@pytest.mark.parametrize("doc", DOCS)
def test_every_name_the_docs_cite_exists(doc):
    text = (REPO / doc).read_text()
    missing = [c for c in _cited(text, None) if not _resolves(c)]
    missing += [p for p in _paths(text) if not (REPO / p).exists() and not any(REPO.glob(p + ".*"))]
    assert not missing, f"{doc} names what does not exist: {sorted(set(missing))}"


def test_a_stale_reference_is_noticed():
    assert not _resolves("conformance.properties.doc04_cross_layer.oracle")
    assert not _resolves("conformance.kit.drift.no_such_function")
    assert _resolves("conformance.kit.drift.drift_bound")
    assert _resolves("conformance.implementations.third_party.hf_albert")
    assert _paths("see `properties/doc04_cross_layer/shadow.py`") == ["properties/doc04_cross_layer/shadow.py"]
