"""`conformance matrix` and `conformance bisect` on local Flax builds: a wheel, an sdist, source trees, commits.

The lock's Flax release is taken as a wheel and as an sdist from a local package
cache, ``.conformance/dists/`` (pip downloads both from PyPI the first time, as
``make setup`` installs from PyPI; the test skips, saying so, if they are not
there and PyPI cannot be reached). The sdist is unpacked into a source tree, and
a copy of it gets one line changed: ``nn.LayerNorm``'s default epsilon, 1e-6,
becomes 1e-5. The matrix must show that as a regression against its parent, and
bisection over commits must find the commit that made the change.

Environments are built from uv's cache (the lock's packages, which ``make
setup`` put there) into a directory of this test session, so every run checks
that they are built, and shared, by content.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile

import pytest
from conftest import REPO, git, run_cli

from conformance.commands.cli import main
from conformance.commands.releases.pairs import lock_pins
from conformance.engine.runner import EXIT_FAILED, EXIT_OK

FLAX = lock_pins((REPO / "requirements.lock").read_text())["flax"].split("==")[1]
DISTS = REPO / ".conformance" / "dists"
FLIPPED = "04-fw-layernorm-default-eps"  # the flipped default makes this claim fail
LISTED = "05-fw-bare-array-is-not-state"  # a known divergence: failed on this release, as expectations.toml says
PROPS = (FLIPPED, LISTED)


def _download(*how: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", *how, "-d", str(DISTS), f"flax=={FLAX}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(
            f"flax {FLAX}'s wheel and sdist are not in {DISTS} and PyPI cannot be reached to put them there "
            f"({reason}); this test needs PyPI once, as `make setup` does"
        )


@pytest.fixture(scope="module")
def dists():
    wheel, sdist = DISTS / f"flax-{FLAX}-py3-none-any.whl", DISTS / f"flax-{FLAX}.tar.gz"
    if not wheel.is_file():
        _download("--only-binary", ":all:")
    if not sdist.is_file():  # its metadata is prepared with the setuptools make setup installed
        _download("--no-binary", ":all:", "--no-build-isolation")
    return wheel, sdist


def _flip_layernorm_epsilon(tree) -> None:
    source = tree / "flax" / "linen" / "normalization.py"
    lines = source.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("class LayerNorm("))
    at = next(i for i in range(start, len(lines)) if lines[i].strip() == "epsilon: float = 1e-6")
    lines[at] = lines[at].replace("1e-6", "1e-5")
    source.write_text("".join(lines))


@pytest.fixture(scope="module")
def trees(dists, tmp_path_factory):
    """(the sdist unpacked, a copy of it with LayerNorm's default epsilon flipped)."""
    root = tmp_path_factory.mktemp("trees")
    with tarfile.open(dists[1]) as tar:
        tar.extractall(root, filter="data")
    parent = root / "parent"
    (root / f"flax-{FLAX}").rename(parent)
    flipped = root / "flipped"
    shutil.copytree(parent, flipped)
    _flip_layernorm_epsilon(flipped)
    changed = subprocess.run(["diff", "-r", str(parent), str(flipped)], capture_output=True, text=True).stdout
    assert changed.count("\n< ") == 1 and "epsilon: float = 1e-5" in changed, f"expected one changed line:\n{changed}"
    return parent, flipped


@pytest.fixture(scope="module")
def envs(tmp_path_factory):
    return tmp_path_factory.mktemp("envs")


@pytest.fixture(scope="module")
def matrix(dists, trees, envs, tmp_path_factory):
    out = tmp_path_factory.mktemp("matrix")
    builds = [str(p) for p in (*dists, *trees)]
    proc = run_cli(
        "matrix",
        *("--flax", *builds, "--only", *PROPS, "-n", "0", "--cache-dir", str(envs)),
        *("--json", str(out / "m.json"), "--html", str(out / "m.html")),
        timeout=900,
    )
    assert (out / "m.json").is_file(), proc.stdout + proc.stderr
    return proc, json.loads((out / "m.json").read_text()), (out / "m.html").read_text()


def _verdicts(column: dict) -> dict:
    return {r["id"]: (r["status"], r.get("diverged_as")) for r in column["results"]}


def test_builds_of_one_release_share_one_environment_and_a_changed_line_gets_its_own(matrix, envs):
    """The wheel, the wheel built from the sdist and the one built from its unpacked tree hold the same
    code and requirements: one environment. The tree with one line changed: a fresh one."""
    _, m, _ = matrix
    wheel, sdist, parent, flipped = m["versions"]
    assert [c["build"]["kind"] for c in m["versions"]] == ["wheel", "sdist", "directory", "directory"]
    digest = wheel["build"]["content"][:8]
    assert [c["label"] for c in m["versions"][:3]] == [
        f"{FLAX} ({k} {digest})" for k in ("wheel", "sdist", "directory")
    ]
    assert wheel["env"] == sdist["env"] == parent["env"] != flipped["env"]
    assert [c["env_cached"] for c in m["versions"]] == [False, True, True, False]
    built = sorted(p.name for p in envs.iterdir() if p.name.startswith("flax-"))
    assert built == sorted({c["env"] for c in m["versions"]}), built
    for column in m["versions"]:
        assert (column["flax"], column["jax"], column["jax_from"]) == (FLAX, "0.10.2", "compat.toml"), column
        assert column["build"]["commit"] is None, "an unpacked sdist inside another checkout has no commit"


def test_a_flipped_default_is_a_regression_against_its_parent_build(matrix):
    proc, m, html = matrix
    assert proc.returncode == EXIT_FAILED, proc.stdout + proc.stderr
    verdicts = [_verdicts(c) for c in m["versions"]]
    assert [v[FLIPPED][0] for v in verdicts] == ["passed", "passed", "passed", "failed"]
    assert "nn.LayerNorm() output against LayerNorm with eps 1e-6 differs" in m["versions"][3]["results"][0]["message"]
    parent, flipped = (c["label"] for c in m["versions"][2:])
    assert f"{parent} → {flipped}: 1 change, 1 regressed" in proc.stdout
    assert f"{FLIPPED}: passed → failed (REGRESSED)" in proc.stdout
    assert f'<summary class="reg">{parent} → {flipped}: 1 change, 1 regressed</summary>' in html
    assert html.count('class="cell r reg"') == 1 and html.count('<span class="badge">regressed</span>') == 1


def test_a_known_divergence_is_absorbed_as_listed_in_every_build(matrix):
    _, m, _ = matrix
    assert {_verdicts(c)[LISTED] for c in m["versions"]} == {("expected_divergence", "failed")}


def test_diff_of_the_parent_and_the_flipped_columns_exits_1(matrix, tmp_path, capsys):
    _, m, _ = matrix
    files = []
    for column in m["versions"][2:]:
        files.append(tmp_path / f"{len(files)}.json")
        files[-1].write_text(json.dumps({**m, "versions": [column]}))
    assert main(["diff", *map(str, files)]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert f"{FLIPPED}: passed -> failed  REGRESSED" in out and "old: (no message)" in out
    assert "differs from the oracle" in out and out.rstrip().endswith(f"1 regressed ({FLIPPED})")
    assert main(["diff", str(files[1]), str(files[0])]) == EXIT_OK, "the way back is a fix, not a regression"


def test_bisect_between_two_local_builds_reports_the_change_with_both_messages(matrix, trees, envs, tmp_path):
    parent, flipped = trees
    proc = run_cli(
        *("bisect", FLIPPED, "--flax", str(parent), str(flipped)),
        *("--cache-dir", str(envs), "--json", str(tmp_path / "b.json")),
    )
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    (search,) = json.loads((tmp_path / "b.json").read_text())["searches"]
    assert (search["candidates"], search["visited"], search["built"]) == (2, 2, 0), search
    _, m, _ = matrix
    assert search["after"]["label"] == m["versions"][3]["label"] and search["before"]["verdict"] == "passed"
    assert f"first change: flax {m['versions'][3]['label']} (jax 0.10.2)" in proc.stdout
    assert "after: flax" in proc.stdout and "differs from the oracle" in proc.stdout
    assert "2 of 2 candidates visited, 0 environments built" in proc.stdout


def test_the_commits_between_two_checkouts_are_built_and_keyed_by_content(trees, envs, tmp_path):
    """What bisect visits between two checkouts of one repository: each commit's tree, exported and built,
    labelled by its commit; a commit that changes nothing a wheel holds shares its parent's environment.
    (No property runs here: test_bisect_between_two_local_builds runs them.)"""
    from conformance.commands.bisect import Prober, workshop_for
    from conformance.commands.cli import _parser
    from conformance.commands.releases.columns import workshop_from

    parent, flipped = trees
    repo = tmp_path / "flax"
    shutil.copytree(parent, repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the sdist's tree")
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\nA line no wheel holds.\n")
    git(repo, "commit", "-qam", "docs")
    shutil.copy(flipped / "flax" / "linen" / "normalization.py", repo / "flax" / "linen" / "normalization.py")
    git(repo, "commit", "-qam", "LayerNorm: epsilon 1e-5")
    commits = git(repo, "rev-list", "--reverse", "HEAD").split()
    older = tmp_path / "older"
    git(repo, "worktree", "add", "-q", str(older), commits[0])
    from conformance.commands.releases import bisection

    assert bisection.commits_between(older, repo) == commits
    args = _parser().parse_args(["bisect", FLIPPED, "--flax", str(older), str(repo), "--cache-dir", str(envs)])
    prober = Prober(workshop_for(workshop_from(args), FLIPPED), FLIPPED, None)
    columns = [prober.column(c, repo) for c in commits]
    assert [c.label for c in columns] == [f"{FLAX} @ {c[:10]}" for c in commits]
    assert columns[0].env_name == columns[1].env_name != columns[2].env_name
