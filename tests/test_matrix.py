"""`conformance matrix` without building anything: the table, cache key, verdicts and the reports."""

from __future__ import annotations

import argparse
import html
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from conformance.commands.releases import command, environments, execution, pairs, results
from conformance.commands.releases import page as matrix_page
from conformance.commands.releases import render as matrix_render
from conformance.commands.releases.execution import Expected
from conformance.commands.releases.pairs import Pair
from conformance.engine import runner

SAMPLE = Path(__file__).parent / "data" / "matrix_sample.json"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sample() -> dict:
    return json.loads(SAMPLE.read_text())


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args(list(argv))


# --------------------------------------------------------------------------- compat table


def test_shipped_table_has_the_verified_pairs():
    table = pairs.load_compat()
    assert {
        v: (p.jax, p.jaxlib)
        for v, p in table.items()
        if v in ("0.8.5", "0.10.7", "0.11.2", "0.12.0", "0.12.1", "0.12.8")
    } == {
        "0.8.5": ("0.4.30", "0.4.30"),
        "0.10.7": ("0.6.2", "0.6.2"),
        "0.11.2": ("0.7.1", "0.7.1"),
        "0.12.0": ("0.7.2", "0.7.2"),
        "0.12.1": ("0.8.1", "0.8.1"),
        "0.12.8": ("0.10.2", "0.10.2"),
    }


def test_the_lock_release_uses_the_lock_jax():
    lock = pairs.lock_pins((ROOT / "requirements.lock").read_text())
    for pair in pairs.load_compat().values():
        if f"flax=={pair.flax}" == lock["flax"]:
            assert (f"jax=={pair.jax}", f"jaxlib=={pair.jaxlib}") == (lock["jax"], lock["jaxlib"])


def test_missing_pair_is_one_line_that_says_what_to_add():
    with pytest.raises(runner.UsageError) as err:
        pairs.pairs_for(["0.12.8", "0.9.9"], pairs.load_compat())
    message = str(err.value)
    assert "\n" not in message
    assert "flax 0.9.9" in message and pairs.COMPAT_FILE in message
    assert '[flax."0.9.9"]' in message and 'jax = "' in message and 'jaxlib = "' in message


def test_missing_pair_exits_2_before_building_anything(capsys, tmp_path):
    code = command.run(_parse("--flax", "0.12.8", "0.0.1", "--cache-dir", str(tmp_path)))
    assert code == runner.EXIT_USAGE
    err = capsys.readouterr().err
    assert "no jax/jaxlib pair for flax 0.0.1" in err
    assert list(tmp_path.iterdir()) == []


def test_usage_errors_exit_2(capsys):
    assert command.run(_parse()) == runner.EXIT_USAGE
    assert "name the builds to test: --flax BUILD [BUILD ...] and/or --newest N" in capsys.readouterr().err
    assert command.run(_parse("--newest", "-1")) == runner.EXIT_USAGE
    with pytest.raises(SystemExit) as bad_profile:
        _parse("--flax", "0.12.8", "--profile", "nope")
    assert bad_profile.value.code == 2
    assert command.run(_parse("--flax", "0.12.8", "-n", "-1")) == runner.EXIT_USAGE
    assert command.run(_parse("--flax", "0.12.8", "--release-timeout", "0")) == runner.EXIT_USAGE


def test_a_table_entry_needs_jax_and_jaxlib():
    with pytest.raises(runner.UsageError, match="lacks jaxlib"):
        pairs.parse_compat('[flax."1.0"]\njax = "0.5.0"\n')


def test_repeated_versions_run_once():
    table = pairs.parse_compat('[flax."1.0"]\njax = "1"\njaxlib = "1"\n')
    assert [p.flax for p in pairs.pairs_for(["1.0", "1.0"], table)] == ["1.0"]


# --------------------------------------------------------------------------- requirements and cache

LOCK = """\
# comment
chex==0.1.92
    # via -r requirements.in
hypothesis==6.170.15
numpy==2.4.6
pytest==9.2.0
pytest-xdist==3.8.0
rich==15.0.0
"""


def test_requirements_pin_the_pair_and_the_lock():
    reqs = pairs.requirements(Pair("0.12.8", "0.10.2", "0.10.2"), pairs.lock_pins(LOCK))
    assert reqs == sorted(reqs, key=pairs.requirement_name)
    assert {
        "flax==0.12.8",
        "jax==0.10.2",
        "jaxlib==0.10.2",
        "chex==0.1.92",
        "hypothesis==6.170.15",
        "numpy==2.4.6",
        "pytest==9.2.0",
        "pytest-xdist==3.8.0",
        "rich==15.0.0",
    } == set(reqs)


def test_a_compat_pin_replaces_the_lock_pin():
    reqs = pairs.requirements(
        Pair("0.8.5", "0.4.30", "0.4.30", pins=("chex==0.1.90", "Numpy<2")), pairs.lock_pins(LOCK)
    )
    assert "chex==0.1.90" in reqs and "chex==0.1.92" not in reqs
    assert "Numpy<2" in reqs and "numpy==2.4.6" not in reqs


def test_a_dependency_missing_from_the_lock_is_left_unpinned():
    reqs = pairs.requirements(Pair("1.0", "1", "1"), {})
    assert "rich" in reqs and "pytest-xdist" in reqs


def test_cache_key_is_stable_and_tracks_pins_and_python():
    reqs = ["flax==0.12.8", "jax==0.10.2", "jaxlib==0.10.2"]
    key = environments.cache_key(reqs, "CPython 3.11.7 x86_64")
    assert key == environments.cache_key(list(reversed(reqs)), "CPython 3.11.7 x86_64")
    assert key != environments.cache_key(reqs + ["numpy<2"], "CPython 3.11.7 x86_64")
    assert key != environments.cache_key(reqs, "CPython 3.12.1 x86_64")
    with_extra = environments.cache_key(reqs, "CPython 3.11.7 x86_64", ["transformers==4.47.1"])
    assert with_extra != key and with_extra == environments.cache_key(
        reqs, "CPython 3.11.7 x86_64", ("transformers==4.47.1",)
    )
    assert re.fullmatch(r"[0-9a-f]{16}", key)
    held = environments.cache_key(reqs, "CPython 3.11.7 x86_64", constraints=["optax==0.2.8"])
    assert held not in (key, with_extra), "a local build's constraints are part of its recipe"


def test_an_env_is_reused_only_with_a_matching_stamp(tmp_path):
    env = tmp_path / "flax-1.0-jax-1"
    assert not environments.env_is_current(env, "abc")
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").touch()
    assert not environments.env_is_current(env, "abc")  # no stamp: a torn build
    (env / environments.STAMP).write_text(json.dumps({"key": "abc"}))
    assert environments.env_is_current(env, "abc")
    assert not environments.env_is_current(env, "abd")
    (env / environments.STAMP).write_text("{not json")
    assert not environments.env_is_current(env, "abc")


def test_pytest_command_runs_properties_with_the_ci_profile(tmp_path):
    args = _parse("--flax", "0.12.8")
    cmd = execution.pytest_command(Path("/env/bin/python"), ROOT, args, tmp_path / "r.json")
    assert cmd[:4] == ["/env/bin/python", "-m", "pytest", str(ROOT / "properties")]
    assert cmd[cmd.index("--conformance-profile") + 1] == "ci"
    assert cmd[cmd.index("--impl") + 1] == "conformance.implementations.reference"
    # The checkout is installed in the release's environment: the plugin comes from its entry point.
    assert "conformance.engine.plugin" not in cmd and "--kind" not in cmd
    assert cmd[cmd.index("-n") + 1] == "2" and cmd[cmd.index("--conformance-timeout") + 1] == "120"
    one_process = execution.pytest_command(
        Path("/env/bin/python"), ROOT, _parse("--flax", "1", "-n", "0", "--only", "01-*"), tmp_path / "r.json"
    )
    assert "-n" not in one_process and one_process[one_process.index("--only") + 1] == "01-*"


# --------------------------------------------------------------------------- verdicts of a release

EXPECTED = [
    Expected("01-a", "A", "framework", "01", "conformance.properties.test_01_x"),
    Expected("02-b", "B", "implementation", "02", "conformance.properties.test_02_y"),
    Expected("03-c", "C", "framework", "03", "conformance.properties.test_03_z"),
]
REPORT = {
    "results": [
        {
            "id": "01-a",
            "title": "A",
            "status": "passed",
            "message": "",
            "kind": "framework",
            "document": "01",
            "inputs": None,
        }
    ]
}


def test_unreported_properties_of_an_uncollectable_module_are_errors():
    output = (
        "ERROR ../../work/main/properties/test_02_y.py - ImportError: cannot import name 'x' from 'flax.nnx'\n"
        "1 passed, 1 error in 3.1s\n"
    )
    column = results.release_results(EXPECTED, REPORT, 1, output, 60)
    by_id = {r["id"]: r for r in column}
    assert [r["id"] for r in column] == ["01-a", "02-b", "03-c"]
    assert by_id["01-a"]["status"] == "passed"
    assert by_id["02-b"]["status"] == "error"
    assert "properties/test_02_y.py cannot be collected" in by_id["02-b"]["message"]
    assert "ImportError: cannot import name 'x'" in by_id["02-b"]["message"]
    assert by_id["03-c"]["status"] == "error" and "pytest exited with code 1" in by_id["03-c"]["message"]


def test_unreported_properties_after_a_timeout_or_a_crash():
    assert {r["status"] for r in results.release_results(EXPECTED, REPORT, None, "", 60)[1:]} == {"timeout"}
    crashed = results.release_results(EXPECTED, REPORT, -11, "", 60)[1:]
    assert {r["status"] for r in crashed} == {"crashed"} and "signal 11" in crashed[0]["message"]
    nothing = results.release_results(
        EXPECTED, None, 3, "INTERNALERROR> x\nValueError: Plugin already registered\n{...}", 60
    )
    assert {r["status"] for r in nothing} == {"error"}
    assert "ValueError: Plugin already registered" in nothing[0]["message"]


def test_exit_code_is_1_only_for_verdicts_outside_the_expectations(sample):
    assert results.exit_code(sample) == runner.EXIT_FAILED
    assert {(v, r["id"]) for v, r in results.regressions(sample)} == {
        ("0.8.5", "03-fw-kernels-are-in-by-out"),
        ("0.8.5", "05-split-merge-keeps-state"),
        ("0.8.5", "02-forward-matches-construction"),
        ("0.10.7", "02-forward-matches-construction"),
    }
    for version in sample["versions"]:
        for r in version["results"]:
            if r["status"] in ("failed", "error", "crashed", "timeout"):
                r["status"] = "expected_divergence"
    assert results.exit_code(sample) == runner.EXIT_OK


def test_summary_counts_every_status(sample):
    counts = results.summarize(sample["versions"][0]["results"])
    assert counts == {
        "passed": 4,
        "failed": 0,
        "error": 2,
        "timeout": 0,
        "crashed": 1,
        "not_provided": 0,
        "expected_divergence": 1,
        "tampered": 0,
    }


# --------------------------------------------------------------------------- reports


def _messages(sample: dict) -> list[str]:
    return [r["message"] for v in sample["versions"] for r in v["results"] if r["status"] != "passed"]


def _note_messages(sample: dict) -> list[str]:
    """The messages the text reports print, one per note; each stands for its cells' messages exactly,
    up to the release number (the same divergence on three releases is printed once)."""
    notes, of_cell = matrix_render.notes(sample)
    for version in sample["versions"]:
        for r in version["results"]:
            if r["status"] != "passed":
                note = of_cell[(version["flax"], r["id"])]
                assert r["message"].replace(f"flax {version['flax']}", "flax V") == note.message.replace(
                    f"flax {note.flax[0]}", "flax V"
                )
    return [n.message for n in notes]


def test_notes_share_one_message_across_releases(sample):
    notes, of_cell = matrix_render.notes(sample)
    bare = [n for n in notes if n.ids == ["05-fw-bare-array-is-not-state"]]
    assert len(bare) == 1 and bare[0].flax == ["0.8.5", "0.10.7", "0.12.8"]
    assert of_cell[("0.8.5", "05-fw-bare-array-is-not-state")] is of_cell[("0.12.8", "05-fw-bare-array-is-not-state")]
    assert ("0.8.5", "01-params-one-shared-entry") not in of_cell


def test_rows_are_grouped_by_document(sample):
    ids = [r.id for r in matrix_render.rows(sample)]
    assert ids[0].startswith("01-") and ids[2] == "02-forward-matches-construction" and len(ids) == len(set(ids))


def test_terminal_table_shows_pairs_statuses_and_every_message(sample):
    console = Console(record=True, width=160, color_system=None)
    for renderable in matrix_render.terminal(sample):
        console.print(renderable)
    text = console.export_text()
    for header in ("flax 0.8.5", "jax 0.4.30", "jaxlib 0.4.30", "flax 0.12.8", "jaxlib 0.10.2"):
        assert header in text
    for label in ("✓ pass", "≈ expected", "! ERROR", "☠ CRASH", "◔ TIMEOUT", "– n/p"):
        assert label in text
    flat = " ".join(text.split())
    for message in _note_messages(sample):
        assert " ".join(message.split()) in flat
    assert "matrix: 4 verdicts not covered by properties/expectations.toml" in text


def test_markdown_has_the_grid_and_every_message(sample):
    md = matrix_render.markdown(sample)
    assert "| Property | flax 0.8.5 jax 0.4.30 / jaxlib 0.4.30 |" in md
    assert md.count("\n| `") == 8  # one line per property
    assert "nn_vmap_forward equals the prescribed vmapped Dense \\| built" in md  # a pipe cannot break the table
    for message in _note_messages(sample):
        assert message in md
    assert "| **summary** | ✓4 ≈1 !2 ☠1 |" not in md  # the summary spells statuses out
    assert "4 passed, 2 error, 1 crashed, 1 expected_divergence" in md


def test_html_is_one_self_contained_page_with_messages_on_hover_and_expand(sample):
    page = matrix_page.html(sample)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<(script|link|img)\b", page) and "url(" not in page
    for message in _messages(sample):
        escaped = html.escape(message, quote=True)
        assert f'title="{escaped}"' in page  # hover
        assert f'<div class="pop">{escaped}</div>' in page  # expand
    assert page.count("<details>") == sum(1 for _ in _messages(sample))
    for status, (_, _, fg, bg) in matrix_render.STYLE.items():
        assert f"color:{fg};background:{bg}" in page, status
    assert "jax 0.4.30 · jaxlib 0.4.30" in page
    # the "only claims that do not pass everywhere" filter hides clean rows
    assert page.count('<tr class="clean">') == 2 and page.count('<tr class="flagged">') == 6
    assert 'id="flagged-only"' in page


def test_reports_of_a_clean_matrix():
    clean = {
        "versions": [
            {
                "flax": "1.0",
                "jax": "1",
                "jaxlib": "1",
                "results": [{"id": "01-a", "title": "A", "status": "passed", "message": ""}],
            }
        ]
    }
    assert "every divergence is an expected one" in matrix_render.markdown(clean)
    assert "None: every claim holds" in matrix_page.html(clean)
    assert results.exit_code(clean) == runner.EXIT_OK


def test_newest_releases_and_a_jax_axis_make_one_column_per_build_and_jax(tmp_path):
    from conformance.commands.releases.columns import workshop_from

    args = _parse("--newest", "2", "--flax", "0.12.8@0.10.1", "--jax", "0.10.0", "--cache-dir", str(tmp_path))
    columns = command._columns(args, workshop_from(args))
    newest = pairs.newest(pairs.load_compat(), 2)
    assert [(c.label, c.pair.jax, c.asked_as) for c in columns] == [
        (newest[0], "0.10.0", f"{newest[0]}@0.10.0"),
        (newest[1], "0.10.0", f"{newest[1]}@0.10.0"),
        ("0.12.8", "0.10.1", "0.12.8@0.10.1"),
    ]
    assert not any(tmp_path.iterdir()), "planning releases builds nothing"


def test_prune_keeps_only_what_the_run_used(tmp_path):
    for name in ("flax-0.12.8-jax-0.10.2", "flax-0.13.0-local-aaaa-jax-0.10.2", "flax-0.13.0-local-bbbb-jax-0.10.2"):
        (tmp_path / name / "bin").mkdir(parents=True)
    for name in ("aaaa", "bbbb", ".incoming-x"):
        (tmp_path / "builds" / name).mkdir(parents=True)
    (tmp_path / "logs").mkdir()
    gone = environments.prune(tmp_path, {"flax-0.12.8-jax-0.10.2", "flax-0.13.0-local-bbbb-jax-0.10.2"}, {"bbbb"})
    assert gone == ["flax-0.13.0-local-aaaa-jax-0.10.2", "builds/aaaa"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "builds",
        "flax-0.12.8-jax-0.10.2",
        "flax-0.13.0-local-bbbb-jax-0.10.2",
        "logs",
    ]
