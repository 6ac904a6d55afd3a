"""The suite's layers and package shapes, read from its imports (every import, including those inside functions).

The harness (``src/conformance``):

- ``conformance.kit``: what properties use; imports nothing else of the suite.
- ``conformance.engine``: loading, registry, plugin, verdicts, reports, the runner; may use the kit.
- ``conformance.commands``: the commands on top; only the CLI dispatches to the others.

The catalogue (``properties/``, installed as ``conformance.properties``):

- a document package imports the kit, the registry and the contract, and its own modules; never another
  document's package, nor the engine's machinery or the commands;
- its subpackages import each other only in the directions :data:`SUBPACKAGE_DIRECTIONS` states;
- it keeps its oracles in an ``oracles`` module (``oracles.py``, or ``<subpackage>/oracles.py``).

And no import cycle anywhere, nor a module over 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

# Where each top-level package's files are; properties/ is installed as conformance.properties.
ROOTS = {"conformance": REPO / "src" / "conformance", "conformance.properties": REPO / "properties"}
# Modules that are commands; cli.py dispatches to them and none may import another.
COMMANDS = {
    "conformance.commands.run",
    "conformance.commands.listing",
    "conformance.commands.kill_table",
    "conformance.commands.bench",
    "conformance.commands.releases.command",
    "conformance.commands.claims",
    "conformance.commands.bisect",
    "conformance.commands.diff",
    "conformance.commands.merge",
}
# What a document package may import of the harness.
CATALOGUE_MAY_USE = ("conformance.kit", "conformance.engine.registry", "conformance.engine.contract")
# Document package -> subpackage -> the sibling subpackages it may import. A subpackage not listed here
# fails the test: a new one states its direction first.
SUBPACKAGE_DIRECTIONS = {
    "conformance.properties.doc04_cross_layer": {
        # Reading a layout computes no expected values; the numerics never look at a layout. Where
        # reading needs the oracle, it takes it as an argument (layout.py binds the two).
        "reading": (),
        "numerics": (),
    },
}
MAX_LINES = 400


def _module_name(path: Path) -> str:
    for top, root in sorted(ROOTS.items(), key=lambda kv: -len(kv[0])):
        if path.is_relative_to(root):
            parts = [*top.split("."), *path.relative_to(root).with_suffix("").parts]
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise ValueError(path)


def _files() -> dict[str, Path]:
    files = {}
    for root in ROOTS.values():
        files.update({_module_name(p): p for p in root.rglob("*.py")})
    return files


def _imports(path: Path, name: str) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return found


FILES = _files()
GRAPH = {name: {m for m in _imports(path, name) if m in FILES and m != name} for name, path in FILES.items()}
DOCUMENT_PACKAGES = sorted(
    n for n, p in FILES.items() if p.name == "__init__.py" and n.rsplit(".", 1)[-1].startswith("doc")
)


def _document_of(module: str) -> str | None:
    return next((d for d in DOCUMENT_PACKAGES if module == d or module.startswith(d + ".")), None)


def test_there_is_no_import_cycle():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(GRAPH):
        if node not in state:
            visit(node)


def test_layers_import_only_downwards():
    allowed = {
        "conformance.kit": ("conformance.kit",),
        "conformance.engine": ("conformance.kit", "conformance.engine"),
    }
    wrong = [
        f"{a} imports {b}"
        for a, targets in GRAPH.items()
        for b in targets
        for layer, ok in allowed.items()
        if a.startswith(layer + ".") and b.startswith("conformance.") and not b.startswith(ok)
    ]
    assert not wrong, "a lower layer imports a higher one:\n" + "\n".join(wrong)


def test_no_command_imports_another_command():
    wrong = [f"{a} imports {b}" for a, targets in GRAPH.items() if a in COMMANDS for b in targets if b in COMMANDS]
    assert not wrong, "commands share code through the engine, not through each other:\n" + "\n".join(wrong)


def test_a_document_package_uses_the_kit_and_its_own_modules_only():
    wrong = []
    for a, targets in GRAPH.items():
        own = _document_of(a)
        if own is None:
            continue
        for b in targets:
            if not (b.startswith(CATALOGUE_MAY_USE) or b == own or b.startswith(own + ".")):
                wrong.append(f"{a} imports {b}")
    assert not wrong, (
        f"a property package may import {', '.join(CATALOGUE_MAY_USE)} and its own modules; another document's "
        "helpers belong in conformance.kit:\n" + "\n".join(wrong)
    )


def test_document_subpackages_import_each_other_only_in_their_stated_direction():
    wrong = []
    for doc in DOCUMENT_PACKAGES:
        subpackages = {
            n.rsplit(".", 1)[-1] for n, p in FILES.items() if p.name == "__init__.py" and n.startswith(doc + ".")
        }
        rules = SUBPACKAGE_DIRECTIONS.get(doc, {})
        unstated = sorted(subpackages - set(rules))
        assert not unstated, f"{doc}: subpackages {unstated} have no stated direction in SUBPACKAGE_DIRECTIONS"
        for a, targets in GRAPH.items():
            if not a.startswith(doc + "."):
                continue
            source = a[len(doc) + 1 :].split(".")[0]
            if source not in subpackages:
                continue
            for b in targets:
                target = b[len(doc) + 1 :].split(".")[0] if b.startswith(doc + ".") else None
                if target in subpackages and target != source and target not in rules[source]:
                    wrong.append(f"{a} imports {b} ({source} may import {list(rules[source]) or 'no sibling'})")
    assert not wrong, "\n".join(wrong)


def test_every_document_package_keeps_its_oracles_in_an_oracles_module():
    missing = [d for d in DOCUMENT_PACKAGES if not any(n.startswith(d + ".") and n.endswith(".oracles") for n in FILES)]
    assert not missing, f"no oracles.py (or <subpackage>/oracles.py) in {missing}"


def test_no_module_is_over_400_lines():
    long = {
        p.relative_to(REPO).as_posix(): n for p in FILES.values() if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these by concern: {long}"


def test_the_rules_see_the_whole_suite():
    """The graph is not empty by accident: it holds the layers, every document package and doc04's subpackages."""
    assert {"conformance.kit.strategies", "conformance.engine.registry", "conformance.commands.cli"} <= set(FILES)
    assert len(DOCUMENT_PACKAGES) == 5, DOCUMENT_PACKAGES
    assert "conformance.properties.doc04_cross_layer.reading.roles" in GRAPH
    assert (
        "conformance.properties.doc04_cross_layer.calls"
        in GRAPH["conformance.properties.doc04_cross_layer.reading.roles"]
    )
