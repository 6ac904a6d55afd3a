"""The scheduled CI recipe (.github/workflows/flax-regression.yml) cannot run here; what it calls can be checked.

Every ``conformance`` command line in the workflow must parse with the CLI's own
parser, the matrix it runs must plan the two newest releases and a build of the
Flax checkout the workflow makes, and the files it publishes and keeps must be
the ones those commands write.
"""

from __future__ import annotations

import argparse
import shlex

import pytest
import yaml
from conftest import REPO

from conformance.commands.cli import _parser
from conformance.commands.releases import builds, command
from conformance.commands.releases.columns import workshop_from
from conformance.commands.releases.pairs import load_compat, newest

WORKFLOW = REPO / ".github" / "workflows" / "flax-regression.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _commands(workflow: dict) -> dict[str, list[str]]:
    """Each `conformance` command line of the workflow's scripts, by subcommand: its arguments."""
    found: dict[str, list[str]] = {}
    for step in _steps(workflow):
        for line in step.get("run", "").splitlines():
            words = shlex.split(line.split("|")[0])
            if words and words[0].endswith("/conformance"):
                assert words[0] == ".venv/bin/conformance", f"run the suite `make setup` built: {line}"
                found[words[1]] = words[1:]
    return found


def test_it_runs_on_a_schedule_and_by_hand(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"].count(" ") == 4, triggers
    assert "workflow_dispatch" in triggers


def test_every_conformance_command_parses_with_the_cli(workflow):
    commands = _commands(workflow)
    assert set(commands) == {"matrix", "diff"}, commands
    for argv in commands.values():
        _parser().parse_args(argv)  # raises SystemExit(2) on an argument the CLI does not know


def test_the_matrix_plans_the_two_newest_releases_and_the_main_checkout(workflow, tmp_path, monkeypatch):
    checkout = next(s for s in _steps(workflow) if s.get("with", {}).get("repository") == "google/flax")
    assert checkout["with"]["ref"] == "main"
    args = _parser().parse_args(_commands(workflow)["matrix"] + ["--cache-dir", str(tmp_path / "envs")])
    assert args.newest == 2 and args.flax == [checkout["with"]["path"]] and args.prune
    monkeypatch.chdir(tmp_path)
    (tmp_path / checkout["with"]["path"]).mkdir()
    (main,) = [builds.parse_spec(text) for text in args.flax]
    assert main.kind == "directory", "the checkout is built from source"
    releases = command._columns(_without_local(args), workshop_from(args))
    assert [c.label for c in releases] == newest(load_compat(), 2)


def _without_local(args: argparse.Namespace) -> argparse.Namespace:
    """The same arguments with the checkout left out: planning it would build Flax (the test of that is
    tests/test_local_builds.py)."""
    return argparse.Namespace(**{**vars(args), "flax": []})


def test_it_publishes_the_page_the_matrix_writes_and_keeps_what_the_next_run_reads(workflow):
    matrix, diff = _commands(workflow)["matrix"], _commands(workflow)["diff"]
    html = matrix[matrix.index("--html") + 1]
    report = matrix[matrix.index("--json") + 1]
    upload = next(s for s in _steps(workflow) if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert html == f"{upload['with']['path']}/index.html", "GitHub Pages serves index.html"
    assert diff[1:] == [".conformance/previous/matrix.json", report], "this run is compared with the last one"
    kept = next(
        s for s in _steps(workflow) if ".conformance/previous/matrix.json" in s.get("run", "") and "cp" in s["run"]
    )
    assert f"cp {report} .conformance/previous/matrix.json" in kept["run"]
    restore = next(s for s in _steps(workflow) if s.get("uses", "").startswith("actions/cache/restore"))
    save = next(s for s in _steps(workflow) if s.get("uses", "").startswith("actions/cache/save"))
    assert ".conformance" in restore["with"]["path"].split() and restore["with"]["path"] == save["with"]["path"]
    assert restore["with"]["key"] == save["with"]["key"]
    assert restore["with"]["restore-keys"].strip() == restore["with"]["key"].rsplit("-${{", 1)[0] + "-"


def test_the_job_fails_when_the_matrix_found_a_regression(workflow):
    run = next(s for s in _steps(workflow) if s.get("id") == "matrix")
    assert run.get("continue-on-error") is True, "the page is published even when a claim regressed"
    assert workflow["jobs"]["matrix"]["outputs"]["verdict"] == "${{ steps.matrix.outcome }}"
    final = workflow["jobs"]["publish"]["steps"][-1]
    assert final["if"] == "needs.matrix.outputs.verdict == 'failure'" and "exit 1" in final["run"]
