"""`conformance diff` and the matrix's changes between adjacent columns, on reports written by hand."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from conformance.commands import diff
from conformance.commands.cli import main
from conformance.commands.releases import page, render
from conformance.engine import changes
from conformance.engine.runner import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def result(prop: str, status: str, message: str = "", diverged_as: str | None = None) -> dict:
    r = {"id": prop, "title": prop.upper(), "status": status, "message": message, "kind": "framework"}
    if diverged_as:
        r["diverged_as"] = diverged_as
    return r


OLD = [
    result("01-a", "passed"),
    result("01-b", "expected_divergence", "known: fails", "failed"),
    result("01-c", "failed", "wrong once"),
    result("01-d", "not_provided", "no name"),
    result("01-e", "passed"),
    result("01-gone", "passed"),
]
NEW = [
    result("01-a", "failed", "now wrong"),  # regressed
    result("01-b", "error", "now raises"),  # regressed: the divergence is not absorbed any more
    result("01-c", "error", "raises"),  # bad to bad: a change, not a regression
    result("01-d", "timeout", "too slow"),  # regressed
    result("01-e", "passed"),  # unchanged
    result("01-new", "failed", "new and wrong"),  # added: not a regression
]


def test_regressed_means_from_a_verdict_that_is_not_bad_to_one_that_is():
    found = {c.id: c for c in changes.compare(OLD, NEW)}
    assert set(found) == {"01-a", "01-b", "01-c", "01-d", "01-new", "01-gone"}
    assert {i for i, c in found.items() if c.regressed} == {"01-a", "01-b", "01-d"}
    assert (found["01-b"].old_status, found["01-b"].new_status) == ("expected_divergence (failed)", "error")
    assert found["01-new"].old_status == "absent" and found["01-gone"].new_status == "absent"
    assert [c.id for c in changes.compare(OLD, NEW)][-1] == "01-gone", "removed properties come last"


def test_a_divergence_that_starts_raising_is_a_change_even_when_both_are_expected():
    old = [result("05-x", "expected_divergence", "m", "failed")]
    new = [result("05-x", "expected_divergence", "m", "error")]
    (change,) = changes.compare(old, new)
    assert not change.regressed and change.new_status == "expected_divergence (error)"
    run_report_style = [{"id": "05-x", "status": "expected_divergence", "extra": {"diverged_as": "failed"}}]
    assert changes.compare(old, run_report_style) == []


def _write(tmp_path, name: str, data: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def _run(results: list[dict], flax: str = "0.12.8") -> dict:
    return {"implementation": {"target": "ref"}, "versions": {"flax": flax, "jax": "0.10.2"}, "results": results}


def test_diff_of_two_runs_prints_both_messages_and_exits_1_on_a_regression(tmp_path, capsys):
    old = _write(tmp_path, "old.json", _run(OLD))
    new = _write(tmp_path, "new.json", _run(NEW, "0.13.0"))
    assert main(["diff", old, new]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "ref on flax 0.12.8, jax 0.10.2 -> ref on flax 0.13.0, jax 0.10.2: 6 changes" in out
    assert "01-a: passed -> failed  REGRESSED" in out and "old: (no message)" in out and "new: now wrong" in out
    assert "01-c: failed -> error\n" in out and "old: wrong once" in out
    assert "01-new: absent -> failed\n" in out and "old: (not in this report)" in out
    assert out.rstrip().endswith("diff: 6 changes, 3 regressed (01-a, 01-b, 01-d)")
    assert main(["diff", new, new]) == EXIT_OK
    assert capsys.readouterr().out.strip().endswith("diff: 0 changes, 0 regressed")


def _matrix(*columns: tuple[str, str, list[dict]]) -> dict:
    return {
        "versions": [
            {"label": label, "flax": label.split()[0], "jax": jax, "jaxlib": jax, "results": rs}
            for label, jax, rs in columns
        ]
    }


def test_matrices_are_compared_column_by_column(tmp_path, capsys):
    old = _matrix(("0.12.7", "0.10.0", OLD), ("0.12.8", "0.10.2", OLD))
    new = _matrix(("0.12.8", "0.10.2", NEW), ("0.12.8", "0.10.1", OLD))
    pairs, only_old, only_new = changes.between(old, new)
    assert [(p.old_name, p.new_name, len(p.changes)) for p in pairs] == [("0.12.8 · jax 0.10.2",) * 2 + (6,)]
    assert only_old == ["0.12.7"] and only_new == ["0.12.8 · jax 0.10.1"]
    code = main(["diff", _write(tmp_path, "a.json", old), _write(tmp_path, "b.json", new)])
    out = capsys.readouterr().out
    assert code == EXIT_FAILED and "flax 0.12.8 · jax 0.10.2: 6 changes" in out
    assert "(not compared): 0.12.7" in out and "(not compared): 0.12.8 · jax 0.10.1" in out


def test_two_one_column_matrices_are_compared_whatever_their_builds(tmp_path, capsys):
    release = _matrix(("0.12.8", "0.10.2", OLD))
    checkout = _matrix(("0.13.0 @ 1234567890", "0.10.2", NEW))
    ((pair,), _, _) = changes.between(release, checkout)
    assert pair.title == "0.12.8 → 0.13.0 @ 1234567890" and len(pair.changes) == 6


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not a JSON report"),
        ('{"summary": {}}', "neither a run report"),
        ('{"results": [{"id": "x"}]}', "lack 'id' or 'status'"),
    ],
)
def test_a_file_that_is_not_a_report_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    good = _write(tmp_path, "good.json", _run(OLD))
    assert main(["diff", good, str(bad)]) == EXIT_USAGE
    out = capsys.readouterr().out
    assert message in out and out.count("\n") == 1 and "Traceback" not in out


def test_a_run_and_a_matrix_are_not_compared(tmp_path, capsys):
    run = _write(tmp_path, "run.json", _run(OLD))
    matrix = _write(tmp_path, "matrix.json", _matrix(("0.12.8", "0.10.2", OLD)))
    assert main(["diff", run, matrix]) == EXIT_USAGE
    assert "is a run report and" in capsys.readouterr().out
    assert diff.load(matrix)[0] == diff.MATRIX


# --------------------------------------------------------------------------- adjacent columns of one matrix

AXIS = _matrix(("0.12.8", "0.10.0", OLD), ("0.12.8", "0.10.2", OLD), ("0.13.0 @ 1234567890", "0.10.2", NEW))


def test_column_names_add_jax_only_where_one_build_has_several():
    assert changes.column_names(AXIS) == ["0.12.8 · jax 0.10.0", "0.12.8 · jax 0.10.2", "0.13.0 @ 1234567890"]
    first, second = changes.adjacent(AXIS)
    assert first.changes == [] and len(second.changes) == 6


def test_the_reports_show_the_changes_between_adjacent_columns():
    console = Console(record=True, width=200, color_system=None)
    for renderable in render.terminal(AXIS):
        console.print(renderable)
    text = console.export_text()
    assert "0.12.8 · jax 0.10.0 → 0.12.8 · jax 0.10.2: no change" in text
    assert "0.12.8 · jax 0.10.2 → 0.13.0 @ 1234567890: 6 changes, 3 regressed" in text
    assert "01-a: passed → failed (REGRESSED)" in text and "01-c: failed → error (changed)" in text
    md = render.markdown(AXIS)
    assert "### 0.12.8 · jax 0.10.2 → 0.13.0 @ 1234567890: 6 changes, 3 regressed" in md
    assert "- `01-a`: passed → failed **(regressed)**. Before: (no message) After: now wrong" in md


def test_the_html_page_marks_changed_cells_and_lists_each_change_with_both_messages():
    html = page.html(AXIS)
    assert html.count('class="cell r reg"') == 3, "the three regressed cells of the last column"
    assert html.count('class="cell r chg"') == 2, "01-c (failed to error) and 01-new (absent to failed)"
    assert '<details class="chg" open><summary class="reg">0.12.8 · jax 0.10.2 → 0.13.0 @ 1234567890' in html
    assert '<details class="chg"><summary class="">0.12.8 · jax 0.10.0 → 0.12.8 · jax 0.10.2: no change' in html
    assert "<pre>wrong once</pre>" in html and "<pre>raises</pre>" in html
    assert html.count('<span class="badge">regressed</span>') == 3
