"""Many implementations at once, without running any: what --impl names, shards, merging, and the views.

Everything here is a pure function of its inputs; the runs themselves are in tests/test_many.py.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from conformance.commands import grid
from conformance.commands.gradebook import gradebook_csv
from conformance.commands.impl_page import html
from conformance.engine.batch import MergeError, Target, TargetError, Task, expand, merge_reports
from conformance.engine.batch.merge import combine
from conformance.engine.batch.task import FRAMEWORK, Outcome
from conformance.engine.registry import discover
from conformance.engine.shards import ShardError, parse_shard, shard_ids


def _touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_folder_is_its_py_files_and_packages_and_says_what_it_skipped(tmp_path):
    for name in ("alice.py", "bob/__init__.py", "bob/helpers.py", "_common.py", "__init__.py", "notes.md", "data/x.py"):
        _touch(tmp_path / name)
    targets, skipped = expand([str(tmp_path)])
    assert [(t.name, Path(t.spec).relative_to(tmp_path).as_posix()) for t in targets] == [
        ("alice", "alice.py"),
        ("bob", "bob/__init__.py"),
    ]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert set(reasons) == {"_common.py", "__init__.py", "notes.md", "data"}, reasons
    assert "private" in reasons["_common.py"] and "not a Python file" in reasons["notes.md"]
    assert "without __init__.py" in reasons["data"]


def test_files_packages_and_dotted_modules_keep_their_order_and_clashing_names_are_told_apart(tmp_path):
    a, b = _touch(tmp_path / "a" / "solution.py"), _touch(tmp_path / "b" / "solution.py")
    package = _touch(tmp_path / "pkg" / "__init__.py")
    targets, _ = expand(["mypkg.solution", str(a), str(b), str(package), str(a)])
    assert [t.name for t in targets] == ["mypkg.solution", "a/solution", "b/solution", "pkg"]
    assert targets[0].spec == "mypkg.solution" and targets[3].spec == str(package)


@pytest.mark.parametrize(
    "arg, words",
    [("missing.py", "no such file"), ("notes.txt", "not a Python file"), ("empty", "holds no .py file")],
)
def test_an_impl_that_names_nothing_usable_is_one_line(tmp_path, arg, words):
    _touch(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TargetError, match=words):
        expand([str(tmp_path / arg)])


def test_shards_cover_the_selection_once_in_contiguous_runs():
    ids = [p.id for p in discover().values()]
    parts = [shard_ids(ids, i, 4) for i in range(1, 5)]
    assert [i for part in parts for i in part] == ids, "the shards, in order, are the selection"
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert shard_ids(ids, 1, 1) == ids
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/2", "3/2", "1", "a/b", "1/0"):
        with pytest.raises(ShardError):
            parse_shard(bad)


# --------------------------------------------------------------------------- reports

PROPS = {p.id: p for p in discover().values() if p.id in ("05-forward-matches-recipe", "05-fw-param-is-a-variable")}
IMPL_ID, FW_ID = "05-forward-matches-recipe", "05-fw-param-is-a-variable"


def _result(pid: str, status: str, implementation: str | None, message: str = "") -> dict:
    p = PROPS[pid]
    return {
        "id": pid,
        "document": p.document,
        "kind": p.kind,
        "title": p.title,
        "status": status,
        "implementation": implementation,
        "message": message,
        "examples": 1,
        "seconds": 0.1,
    }


def _part(results: list[dict], *, shard: str | None = None, pool_seed: int = 0, names=("good", "bad")) -> dict:
    return {
        "versions": {"flax": "0.12.8"},
        "profile": "ci",
        "pool_seed": pool_seed,
        "precision": {},
        "run": {"only": None, "kind": None, "max_examples": 3, "shard": shard},
        "implementations": [{"name": n, "target": f"{n}.py"} for n in names],
        "results": results,
        "partial": False,
        "seconds": 1.0,
    }


def _sample() -> dict:
    return merge_reports(
        [
            ("1.json", _part([_result(FW_ID, "passed", None), _result(IMPL_ID, "passed", "good")], shard="1/2")),
            ("2.json", _part([_result(IMPL_ID, "failed", "bad", "off by one\nworst at 0")], shard="2/2")),
        ]
    )


def test_merged_shards_are_one_report_with_a_summary_per_implementation():
    merged = _sample()
    assert merged["implementation"] is None and [d["name"] for d in merged["implementations"]] == ["good", "bad"]
    assert {d["name"]: d["outcome"] for d in merged["implementations"]} == {"good": "passed", "bad": "failed"}
    assert merged["framework"]["summary"]["passed"] == 1 and merged["summary"]["failed"] == 1
    assert merged["run"]["merged_from"] == ["1.json", "2.json"] and merged["run"]["shard"] is None


@pytest.mark.parametrize(
    "parts, words",
    [
        ([_part([], shard="1/3"), _part([], shard="3/3")], "shard 2/3 missing"),
        ([_part([], shard="1/2"), _part([], shard="1/2")], "shard 1/2 is given twice"),
        ([_part([], shard="1/2"), _part([])], "some reports are shards"),
        ([_part([]), _part([], pool_seed=7)], "pool_seed differ"),
        (
            [_part([_result(IMPL_ID, "passed", "good")]), _part([_result(IMPL_ID, "failed", "good")])],
            "disagree on 05-forward-matches-recipe for good",
        ),
    ],
)
def test_parts_that_are_not_one_run_are_refused_with_one_line(parts, words):
    with pytest.raises(MergeError, match=words):
        merge_reports([(f"{i}.json", p) for i, p in enumerate(parts)])


def test_a_task_that_could_not_load_or_died_still_gives_every_property_a_verdict():
    good, broken, dead = Target("good", "good.py"), Target("broken", "broken.py"), Target("dead", "dead.py")
    tasks = [Task(t.name, t, (IMPL_ID,)) for t in (good, broken, dead)] + [Task(FRAMEWORK, None, (FW_ID,))]
    outcomes = [
        Outcome(tasks[0], report={"results": [_result(IMPL_ID, "passed", "good")], "versions": {}}),
        Outcome(tasks[1], load_error="broken.py:4: SyntaxError: invalid syntax"),
        Outcome(tasks[2], problem="the task's process ended with exit code -9"),
    ]  # the framework task never ran: the run was interrupted
    report = combine(tasks, outcomes, PROPS, targets=[good, broken, dead], run={}, interrupted=True)
    by = {(r["implementation"], r["id"]): r for r in report["results"]}
    assert by[("broken", IMPL_ID)]["status"] == "error" and "SyntaxError" in by[("broken", IMPL_ID)]["message"]
    assert by[("dead", IMPL_ID)]["status"] == "crashed" and "exit code -9" in by[("dead", IMPL_ID)]["message"]
    assert (None, FW_ID) not in by and report["partial"], "an interrupted run is partial, not made up"
    assert [d["outcome"] for d in report["implementations"]] == ["passed", "cannot load", "failed"]


def test_the_gradebook_has_a_row_per_implementation_and_a_column_per_property_plus_totals():
    rows = list(csv.DictReader(io.StringIO(gradebook_csv(_sample()))))
    assert [r["implementation"] for r in rows] == ["good", "bad"]
    assert rows[0][IMPL_ID] == "passed" and rows[1][IMPL_ID] == "failed" and FW_ID not in rows[0]
    assert (rows[1]["failed"], rows[1]["passed"], rows[1]["properties"], rows[1]["outcome"]) == (
        "1",
        "0",
        "1",
        "failed",
    )


def test_the_terminal_table_marks_each_property_and_names_what_failed(monkeypatch):
    recorded = Console(record=True, width=140, color_system=None)
    monkeypatch.setattr(grid, "console", recorded)
    grid.print_grid(_sample(), written=["all.json"])
    text = recorded.export_text()
    assert re.search(r"good\s+│\s+✓", text) and re.search(r"bad\s+│\s+✗", text), text
    assert "failed 05-forward-matches-recipe: off by one" in text
    assert "framework properties (flax 0.12.8, run once): 1 passed" in text
    assert "2 implementations: 1 passed, 1 failed" in text


def test_the_page_is_self_contained_with_every_message():
    page = html(_sample())
    assert page.startswith("<!DOCTYPE html>") and not re.search(r"<(script|link|img)\b", page)
    assert '<div class="pop">off by one\nworst at 0</div>' in page
    assert page.count("<th title=") == 2 and "Framework properties (flax 0.12.8, run once)" in page


def test_a_task_stopped_by_an_interrupt_keeps_what_it_reported_and_is_incomplete():
    target = Target("slow", "slow.py")
    task = Task(target.name, target, (IMPL_ID, "05-initial-values-follow-recipe"))
    props = {**PROPS, "05-initial-values-follow-recipe": discover()["05-initial-values-follow-recipe"]}
    stopped = Outcome(task, report={"results": [_result(IMPL_ID, "passed", "slow")]}, interrupted=True)
    stopped.problem = "the task's process ended with exit code -9"  # ended by the interrupt, not by itself
    report = combine([task], [stopped], props, targets=[target], run={}, interrupted=True)
    assert [(r["id"], r["status"]) for r in report["results"]] == [(IMPL_ID, "passed")]
    assert report["partial"] and report["implementations"][0]["outcome"] == "incomplete"
