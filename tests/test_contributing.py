"""CONTRIBUTING's walk-through, replayed: a new contributor following it gets a working property.

On a scratch copy of the suite the walk-through's property, mutant and claim reference are removed;
then CONTRIBUTING's marked snippets are applied exactly as written (the claim as it was, the
property appended to the module it names, the mutant file, the claim as it becomes) and the commands
of its step 4 run against that copy. The copy shadows the installed package on ``PYTHONPATH``.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

GUIDE = REPO / "CONTRIBUTING.md"
MODULE = "properties/doc05_nnx_state/test_nnx_state.py"
MUTANT = "implementations/mutants/m05_bias_float16.py"
CLAIMS = "properties/doc05_nnx_state/claims.toml"


def _snippets() -> dict[str, str]:
    """The fenced block after each ``<!-- rehearsal: NAME -->`` marker."""
    found = re.finditer(r"<!-- rehearsal: ([\w-]+) -->\n```\w*\n(.*?)```", GUIDE.read_text(), re.S)
    return {m.group(1): m.group(2) for m in found}


SNIPPETS = _snippets()


def test_the_walk_through_marks_its_snippets():
    assert set(SNIPPETS) == {"claim-before", "claim-after", "property", "mutant", "commands"}, sorted(SNIPPETS)
    assert "def test_bias_dtype_is_float32" in SNIPPETS["property"]


def _scratch(tmp: Path) -> Path:
    """src/conformance, properties and implementations laid out as the installed package, under tmp."""
    root = tmp / "site"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "src" / "conformance", root / "conformance", ignore=ignore)
    shutil.copytree(REPO / "properties", root / "conformance" / "properties", ignore=ignore)
    shutil.copytree(REPO / "implementations", root / "conformance" / "implementations", ignore=ignore)
    return root


def _in_scratch(root: Path, repo_path: str) -> Path:
    top, rest = repo_path.split("/", 1)
    return root / "conformance" / top / rest


def _remove_function(path: Path, name: str) -> None:
    """Delete a top-level function and its decorators from a module."""
    text = path.read_text()
    node = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == name)
    lines = text.splitlines(keepends=True)
    start = min(d.lineno for d in node.decorator_list) - 1
    path.write_text("".join(lines[:start] + lines[node.end_lineno :]))


def _swap_claim(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path}: the claim is not there exactly as CONTRIBUTING shows it:\n{old}"
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    root = _scratch(tmp_path_factory.mktemp("contributing"))
    claims = _in_scratch(root, CLAIMS)
    # Undo the example: the state a contributor starts from.
    _remove_function(_in_scratch(root, MODULE), "test_bias_dtype_is_float32")
    _in_scratch(root, MUTANT).unlink()
    _swap_claim(claims, SNIPPETS["claim-after"], SNIPPETS["claim-before"])
    # Follow the walk-through.
    module = _in_scratch(root, MODULE)
    module.write_text(module.read_text() + "\n\n" + SNIPPETS["property"])
    _in_scratch(root, MUTANT).write_text(SNIPPETS["mutant"])
    _swap_claim(claims, SNIPPETS["claim-before"], SNIPPETS["claim-after"])
    return root


def _commands() -> list[list[str]]:
    lines = [line.split("#", 1)[0].strip() for line in SNIPPETS["commands"].splitlines()]
    return [shlex.split(line) for line in lines if line]


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c[1:4]))
def test_step_4_passes_on_the_walk_through(scratch, command, tmp_path):
    assert command[0] == ".venv/bin/conformance", command
    env = {**os.environ, "PYTHONPATH": str(scratch)}
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", *command[1:]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    where = subprocess.run(
        [sys.executable, "-c", "import conformance.properties as p; print(p.__path__[0])"],
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert where.startswith(str(scratch)), f"the scratch copy did not shadow the installed suite: {where}"
    assert proc.returncode == 0, (
        f"{' '.join(command)} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
