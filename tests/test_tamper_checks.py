"""The pieces of tamper evidence, in this process: the judge's state, its digest, the files, the wire.

tests/test_tampering.py runs whole tampering implementations the way a user would.
"""

from __future__ import annotations

import ast
import io
import marshal
import py_compile
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from conformance.engine import judge_digest, wire
from conformance.engine.suite_files import _recompiled
from conformance.engine.tamper import SUITE_STATE, Snapshot

# Suite state rebound by a `global` statement before any implementation is imported (the run's shape pool and
# matmul precision, in pytest_configure): watched like the rest, so that an implementation cannot swap them.
SET_BEFORE_THE_IMPLEMENTATION = {"conformance.kit.pools": {"_CURRENT"}, "conformance.kit.precision": {"_current"}}


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    from conformance.engine import registry

    registry.discover()
    return Snapshot.take()


def _module(name: str):
    return sys.modules[name]


def test_an_untouched_judge_has_no_changes(snapshot):
    assert snapshot.changes() == [], "nothing was changed, yet the snapshot reports changes"


def test_rebinding_a_helper_where_a_property_imported_it(snapshot, monkeypatch):
    prop = _module("conformance.properties.doc01_shared_dense.test_shared_dense")
    monkeypatch.setattr(prop, "assert_close", lambda *a, **k: None)
    [change] = snapshot.changes(everything=False)
    assert "test_shared_dense.assert_close was rebound" in change and "test_tamper_checks" in change, change


def test_replacing_a_functions_code_or_defaults(snapshot, monkeypatch):
    assertions = _module("conformance.kit.assertions")
    monkeypatch.setattr(assertions.assert_equal_arrays, "__code__", (lambda *a, **k: None).__code__)
    monkeypatch.setattr(np.allclose.__wrapped__, "__defaults__", (1e9, 1e9, False))  # NumPy's dispatcher calls it
    changes = snapshot.changes(everything=False)
    assert any("assert_equal_arrays had its code or defaults replaced" in c for c in changes), changes
    assert any("allclose.__wrapped__ had its code or defaults replaced" in c for c in changes), changes


def test_patching_numpy_and_overriding_an_inherited_method(snapshot, monkeypatch):
    import _pytest.reports

    monkeypatch.setattr(np, "abs", lambda x: np.zeros_like(x))
    monkeypatch.setattr(_pytest.reports.TestReport, "passed", property(lambda self: True), raising=False)
    changes = snapshot.changes(everything=False)
    assert any(c.startswith("numpy.abs was rebound") for c in changes), changes
    assert any("TestReport.passed was added" in c for c in changes), changes


def test_replacing_a_suite_module_in_sys_modules(snapshot, monkeypatch):
    fake = type(sys)("conformance.kit.assertions")
    monkeypatch.setitem(sys.modules, "conformance.kit.assertions", fake)
    assert any("sys.modules['conformance.kit.assertions'] was replaced" in c for c in snapshot.changes()), (
        "a module swapped in sys.modules went unnoticed"
    )


def test_a_hypothesis_profile_loaded_by_an_implementation():
    from hypothesis import settings

    snap = Snapshot(probes={"profile": lambda: (settings.get_current_profile_name(), settings.default)})
    before = settings.get_current_profile_name()
    settings.register_profile("tamper-test", max_examples=1)
    settings.load_profile("tamper-test")
    try:
        [change] = snap.changes()
    finally:
        settings.load_profile(before)
    assert change.startswith("profile changed"), change


def _globals(path: Path) -> set[str]:
    return {n for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Global) for n in node.names}


def test_every_global_the_suite_rebinds_is_either_its_own_state_or_set_before_the_implementation():
    found = {}
    for root, package in (
        (REPO / "src" / "conformance", "conformance"),
        (REPO / "properties", "conformance.properties"),
    ):
        for path in root.rglob("*.py"):
            names = _globals(path)
            if names:
                parts = path.relative_to(root).with_suffix("").parts
                found[".".join((package, *parts)).removesuffix(".__init__")] = names
    declared = {m: SUITE_STATE.get(m, set()) | SET_BEFORE_THE_IMPLEMENTATION.get(m, set()) for m in found}
    undeclared = {m: names - declared[m] for m, names in found.items() if names - declared[m]}
    assert not undeclared, (
        f"{undeclared}: state the suite rebinds with `global`; if it changes after the implementation is "
        "imported, add it to conformance.engine.tamper.SUITE_STATE, else to SET_BEFORE_THE_IMPLEMENTATION here"
    )


def test_the_digest_follows_a_rebinding_and_the_seal_follows_the_verdict(monkeypatch):
    names = judge_digest.names_to_digest()
    clean = judge_digest.digest(names)
    assert judge_digest.digest(names) == clean, "the digest of an unchanged judge is not stable"
    prop = _module("conformance.properties.doc01_shared_dense.test_shared_dense")
    monkeypatch.setattr(prop, "assert_close", lambda *a, **k: None)
    assert judge_digest.differences(clean, judge_digest.digest(names)) == [
        "conformance.properties.doc01_shared_dense.test_shared_dense differs from the judge's own copy"
    ]
    seal = judge_digest.seal("key", '{"status": "failed"}', clean)
    assert judge_digest.seal_holds("key", '{"status": "failed"}', clean, seal)
    assert not judge_digest.seal_holds("key", '{"status": "passed"}', clean, seal), "a rewritten verdict kept its seal"


def test_a_cached_bytecode_file_must_hold_its_sources_code(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    return 1\n")
    pyc = Path(py_compile.compile(str(source)))
    assert _recompiled(pyc), "Python's own cache of the unchanged source was taken for tampering"
    pyc.write_bytes(pyc.read_bytes()[:16] + marshal.dumps(compile("def f():\n    return 2\n", str(source), "exec")))
    assert not _recompiled(pyc), "a cache with a valid header and other code was accepted"
    pyc.write_bytes(b"not a cache")
    assert _recompiled(pyc), "a file Python would never load as the cache was taken for tampering"


def test_the_wire_carries_arrays_and_refuses_anything_else():
    buffer = io.BytesIO()
    wire.send(buffer, {"ok": True}, [np.arange(6, dtype=np.float32).reshape(2, 3)])
    header, [array] = wire.receive(io.BytesIO(buffer.getvalue()))
    assert header == {"ok": True} and array.dtype == np.float32 and array.shape == (2, 3)
    with pytest.raises(wire.WireError, match="closed"):
        wire.receive(io.BytesIO(buffer.getvalue()[:-5]))
    with pytest.raises(ValueError, match="allow_pickle"):
        wire.send(io.BytesIO(), {}, [np.array([object()])])
    forged = io.BytesIO()
    wire.send(forged, {}, [np.zeros(1)])
    data = forged.getvalue().replace(b"'descr': '<f8'", b"'descr': '|O8'")
    with pytest.raises(wire.WireError, match=r"not \.npy data"):
        wire.receive(io.BytesIO(data))


def test_every_status_has_a_look_in_every_view():
    from conformance.commands import console, verdict_style
    from conformance.commands.releases import render
    from conformance.engine.outcomes import STATUSES

    views = {
        "terminal table": console.STYLE,
        "pages (matrix, implementations)": verdict_style.STYLE,
        "terminal grids": verdict_style.TERM,
        "page cells": verdict_style.CELL,
        "terminal colours": verdict_style.RICH,
        "grid marks": verdict_style.GLYPH,
        "matrix Markdown": render.MD_ICON,
    }
    missing = {name: sorted(set(STATUSES) - set(view)) for name, view in views.items() if set(STATUSES) - set(view)}
    assert not missing, f"statuses with no look: {missing}"


def test_what_a_worker_sends_that_is_not_a_verdict_is_read_as_tampered():
    from conformance.engine.plugin.tamper_watch import _readable, _stand_in

    assert _readable("not json") is None and _readable('{"id": "x", "status": "great"}') is None
    assert _readable('{"id": "x", "status": "passed", "document": "01", "run": "rm -rf"}') == {
        "id": "x",
        "status": "passed",
        "document": "01",
    }, "fields a verdict does not have must not reach the recorder"
    stand_in = _stand_in("properties/doc05_nnx_state/test_nnx_state.py::test_forward_matches_recipe[impl]")
    assert (stand_in["id"], stand_in["status"], stand_in["implementation"]) == (
        "05-forward-matches-recipe",
        "tampered",
        "impl",
    ), stand_in


def _report_of_two(tampered: dict) -> dict:
    """A merged report of two implementations: `good` passed, `sly` tampered (as its task's controller wrote it)."""
    from conformance.engine.batch import merge_reports
    from conformance.engine.registry import discover

    prop = discover()["05-forward-matches-recipe"]
    described = {"id": prop.id, "document": prop.document, "kind": prop.kind, "title": prop.title}
    run = {"only": [prop.id], "kind": None, "max_examples": 3, "shard": None}
    header = {"versions": {"flax": "0.12.8"}, "profile": "ci", "pool_seed": 0, "precision": {}, "run": run}

    def part(name: str, **fields) -> dict:
        result = {**described, "implementation": name, "examples": 3, "seconds": 0.1, **fields}
        implementation = {"name": name, "target": f"{name}.py"}
        return {**header, "implementations": [implementation], "results": [result], "partial": False, "seconds": 1}

    return merge_reports(
        [("good.json", part("good", status="passed", message="")), ("sly.json", part("sly", **tampered))]
    )


def test_a_tampered_implementation_shows_in_every_view_of_many_and_fails_the_run(monkeypatch):
    import csv

    from rich.console import Console

    from conformance.commands import grid
    from conformance.commands.gradebook import gradebook_csv
    from conformance.commands.impl_page import html
    from conformance.commands.reports import exit_code
    from conformance.engine.batch.merge import OUTCOMES

    message = "[05-forward-matches-recipe] tampered: code loaded with sly changed the judge during the run"
    report = _report_of_two({"status": "tampered", "message": message, "extra": {"reported": "passed"}})
    assert {d["name"]: d["outcome"] for d in report["implementations"]} == {"good": "passed", "sly": "tampered"}
    assert report["summary"]["tampered"] == 1 and exit_code(report) == 1, "a tampered implementation fails the run"
    recorded = Console(record=True, width=140, color_system=None)
    monkeypatch.setattr(grid, "console", recorded)
    grid.print_grid(report, written=[])
    text = recorded.export_text()
    assert re.search(r"sly\s+│\s+⚠\s+│.*│\s+tampered\s+│", text), text
    assert "tampered 05-forward-matches-recipe: " in text, text
    assert "2 implementations: 1 passed, 1 tampered" in text, text
    rows = {r["implementation"]: r for r in csv.DictReader(io.StringIO(gradebook_csv(report)))}
    assert (rows["sly"]["05-forward-matches-recipe"], rows["sly"]["tampered"], rows["sly"]["outcome"]) == (
        "tampered",
        "1",
        "tampered",
    )
    assert rows["good"]["outcome"] == "passed"
    page = html(report)
    assert "⚠ TAMPERED" in page and "changed the judge" in page and "<small>tampered</small>" in page
    assert set(OUTCOMES) == set(grid._OUTCOME_STYLE), "every outcome has a colour in the terminal table"


def test_in_a_run_of_many_a_task_that_ends_after_the_suites_files_changed_is_tampered(monkeypatch):
    """An edit made by one task is seen by the tasks that start after it only here: they hash what they find.

    And a verdict a task was not asked for (its selection changed in its processes) is not the run's.
    """
    import conformance.engine.batch as batch
    from conformance.engine.batch import Outcome, Target, run_batch
    from conformance.engine.batch import local as local_runs
    from conformance.engine.registry import discover

    prop = discover()["05-forward-matches-recipe"]
    edit = "conformance/kit/assertions.py was written"
    disk = {"edited": False}

    class Files:  # SuiteFiles, as the run sees the disk
        @classmethod
        def take(cls):
            return cls()

        def changes(self):
            return [edit] if disk["edited"] else []

    described = {"id": prop.id, "document": prop.document, "kind": prop.kind, "title": prop.title}

    def run_local(tasks, *, on_done, **_):
        for task in tasks:  # `early` ends, then `sly` edits the suite's files, then `late` ends
            passed = {**described, "status": "passed", "message": "", "implementation": task.key}
            unasked = {**passed, "id": "05-fw-param-is-a-variable", "kind": "framework"}
            disk["edited"] = disk["edited"] or task.key == "sly"
            results = [passed, unasked] if task.key == "sly" else [passed]
            on_done(Outcome(task, report={"results": results, "versions": {}, "profile": "ci"}))

    monkeypatch.setattr(batch, "SuiteFiles", Files)
    monkeypatch.setattr(local_runs, "run_local", run_local)
    targets = [Target(name, f"{name}.py") for name in ("early", "sly", "late")]
    report = run_batch(targets, [prop], options={}, run={})
    outcomes = {d["name"]: d["outcome"] for d in report["implementations"]}
    assert outcomes == {"early": "passed", "sly": "tampered", "late": "tampered"}, outcomes
    assert [r["id"] for r in report["results"]] == [prop.id] * 3, "a verdict the task was not asked for is dropped"
    [late] = [r for r in report["results"] if r["implementation"] == "late"]
    assert edit in late["message"] and "the property itself reported passed" in late["message"], late["message"]
