"""The harness's layers, read from its imports (every import, including those inside functions).

- ``conformance.kit``: what properties use; imports nothing else of the harness.
- ``conformance.engine``: loading, registry, plugin, verdicts, reports, the runner; may use the kit.
- ``conformance.commands``: the commands on top; only the CLI dispatches to the others.

And no import cycle anywhere in the harness.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

SRC = REPO / "src"
# Modules that are commands; cli.py dispatches to them and none may import another.
COMMANDS = {
    "conformance.commands.run",
    "conformance.commands.listing",
    "conformance.commands.kill_table",
    "conformance.commands.bench",
    "conformance.commands.releases.command",
    "conformance.commands.claims",
    "conformance.commands.merge",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


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


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in SRC.rglob("*.py")}
    return {name: {m for m in _imports(path, name) if m in files and m != name} for name, path in files.items()}


GRAPH = _graph()


def test_the_harness_has_no_import_cycle():
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
    allowed = {"conformance.kit": ("conformance.kit",), "conformance.engine": ("conformance.kit", "conformance.engine")}
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


def test_no_harness_module_is_over_400_lines():
    long = {
        p.relative_to(REPO).as_posix(): n for p in SRC.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400
    }
    assert not long, f"split these by concern: {long}"
