"""`conformance bisect` without building anything: the search, the ranges it checks, the commits it searches."""

from __future__ import annotations

import pytest
from conftest import git

from conformance.commands.cli import main
from conformance.commands.releases import bisection
from conformance.commands.releases.pairs import load_compat
from conformance.engine.expectations import load_expectations, parse_expectations
from conformance.engine.runner import EXIT_USAGE

RELEASES = sorted(load_compat(), key=bisection.Version)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 22])
def test_the_search_finds_every_change_point_visiting_each_candidate_at_most_once(n):
    for change in range(1, n):
        visits: list[int] = []

        def verdict(i: int, change: int = change, visits: list[int] = visits) -> str:
            visits.append(i)
            return "passed" if i < change else "failed"

        found = bisection.bisect(list(range(n)), verdict)
        assert (found.before, found.after) == (change - 1, change), f"n={n}, change at {change}"
        assert len(visits) == len(set(visits)) == found.visited, f"a candidate was built twice: {visits}"
        assert found.visited <= bisection.most_visits(n), (n, change, visits)


def test_ends_that_agree_are_two_visits_and_no_change():
    found = bisection.bisect(RELEASES, lambda v: "passed")
    assert not found.changed and found.visited == 2
    assert bisection.most_visits(22) == 7 and bisection.most_visits(7) == 5 and bisection.most_visits(2) == 2


def test_releases_between_two_ends_come_from_the_table_oldest_first():
    assert bisection.releases_between(RELEASES, "0.10.4", "0.10.7") == ["0.10.4", "0.10.5", "0.10.6", "0.10.7"]
    assert bisection.releases_between(RELEASES, "0.12.8", "0.8.5") == []


def test_each_change_of_expected_verdict_is_searched_between_its_neighbouring_runs():
    entries = parse_expectations(
        '[[divergence]]\nproperty = "05-x"\nflax = "<0.10.0"\nstatus = "failed"\nreason = "a"\n'
        '[[divergence]]\nproperty = "05-x"\nflax = ">=0.10.0,<0.10.5"\nstatus = "error"\nreason = "b"\n'
        '[[divergence]]\nproperty = "05-x"\nflax = ">=0.12.1"\nstatus = "failed"\nreason = "c"\n'
    )
    found = bisection.boundaries("05-x", list(entries), RELEASES)
    assert [(b.older, b.newer, b.first, b.before, b.after) for b in found] == [
        ("0.8.5", "0.10.4", "0.10.0", "expected_divergence (failed)", "expected_divergence (error)"),
        ("0.10.0", "0.12.0", "0.10.5", "expected_divergence (error)", "passed"),
        ("0.10.5", "0.12.8", "0.12.1", "passed", "expected_divergence (failed)"),
    ]
    whole = parse_expectations('[[divergence]]\nproperty = "01-y"\nflax = ">=0.8.5"\nstatus = "failed"\nreason = "r"\n')
    (only,) = bisection.boundaries("01-y", list(whole), RELEASES)
    assert (only.older, only.newer, only.first) == ("0.8.5", "0.12.8", None)


def test_the_shipped_expectations_make_twelve_searches():
    entries = load_expectations()
    searches = [
        b
        for prop in dict.fromkeys(d.property for d in entries)
        for b in bisection.boundaries(prop, [d for d in entries if d.property == prop], RELEASES)
    ]
    assert len(searches) == 12, [(b.property, b.first) for b in searches]
    assert {b.first for b in searches} == {None, "0.9.0", "0.10.0", "0.10.5", "0.12.1"}


def test_commits_between_two_checkouts_of_one_repository(tmp_path):
    repo = tmp_path / "flax"
    repo.mkdir()
    git(repo, "init", "-q")
    commits = []
    for i in range(4):
        (repo / "f.py").write_text(f"x = {i}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"c{i}")
        commits.append(git(repo, "rev-parse", "HEAD"))
    older = tmp_path / "older"
    git(repo, "worktree", "add", "-q", str(older), commits[0])
    assert bisection.commits_between(older, repo) == commits
    assert bisection.commits_between(repo, older) is None, "the newer end first is not a range"
    unrelated = tmp_path / "other"
    unrelated.mkdir()
    git(unrelated, "init", "-q")
    assert bisection.commits_between(unrelated, repo) is None
    tree = bisection.export_commit(repo, commits[2], tmp_path / "trees")
    assert (tree / "f.py").read_text() == "x = 2\n"
    assert bisection.export_commit(repo, commits[2], tmp_path / "trees") == tree, "an export is reused"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bisect", "05-fw-bare-array-is-not-state"], "give either ID --flax A B, or --expectations alone"),
        (["bisect", "--expectations", "05-x"], "give either ID --flax A B, or --expectations alone"),
        (["bisect", "09-nothing", "--flax", "0.8.5", "0.12.8"], "unknown property id 09-nothing"),
        (["bisect", "01-fw-*", "--flax", "0.8.5", "0.12.8"], "unknown property id 01-fw-* (name one id"),
        (["bisect", "01-fw-inline-dense-not-shared", "--flax", "0.12.8", "0.8.5"], "name the older release first"),
        (["bisect", "01-fw-inline-dense-not-shared", "--flax", "0.8.5", "0.9.9"], "no jax/jaxlib pair for flax 0.9.9"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_anything_is_built(tmp_path, capsys, argv, message):
    assert main([*argv, "--cache-dir", str(tmp_path)]) == EXIT_USAGE
    out = capsys.readouterr().out
    assert message in out and out.count("\n") == 1, out
    assert not any(tmp_path.iterdir()), "nothing may be built for a command that is refused"
