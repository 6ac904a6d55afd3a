"""Binary search for the first build where a property's verdict changes, and the searches that check expectations.

The search runs on an ordered list of candidates (releases of the pair table,
or the first-parent commits between two checkouts of one git repository). It
visits both ends, then halves the interval between the last candidate known to
give the first end's verdict and the first known to differ: with ``n``
candidates it visits at most ``2 + ceil(log2(n - 1))`` of them, and each visit
is one environment. Like any bisection it assumes one change: a verdict that
changes and changes back between two visited candidates is not seen.
"""

from __future__ import annotations

import itertools
import math
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from packaging.version import Version

from conformance.engine.expectations import Divergence

T = TypeVar("T")


@dataclass
class Search(Generic[T]):
    """The outcome of one bisection: the last candidate with the first verdict, the first with another."""

    candidates: list[T]
    verdicts: dict[int, str] = field(default_factory=dict)  # candidate index -> verdict, in visiting order
    before: int | None = None
    after: int | None = None  # None: both ends agree

    @property
    def visited(self) -> int:
        return len(self.verdicts)

    @property
    def changed(self) -> bool:
        return self.after is not None


def most_visits(n: int) -> int:
    """The most candidates a search over ``n`` visits."""
    return n if n <= 2 else 2 + math.ceil(math.log2(n - 1))


def bisect(candidates: list[T], verdict: Callable[[T], str]) -> Search[T]:
    """Find the first candidate whose verdict differs from the first candidate's (``verdict`` runs each at most once)."""
    search: Search[T] = Search(candidates)
    if not candidates:
        return search

    def at(i: int) -> str:
        if i not in search.verdicts:
            search.verdicts[i] = verdict(candidates[i])
        return search.verdicts[i]

    lo, hi = 0, len(candidates) - 1
    if at(lo) == at(hi):
        return search
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if at(mid) == at(lo):
            lo = mid
        else:
            hi = mid
    search.before, search.after = lo, hi
    return search


def releases_between(table: list[str], older: str, newer: str) -> list[str]:
    """The table's releases from ``older`` to ``newer``, both included, oldest first."""
    low, high = Version(older), Version(newer)
    return sorted((v for v in table if low <= Version(v) <= high), key=Version)


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Boundary:
    """One check of an expectations range: bisecting ``older``..``newer`` must find the change at ``first``."""

    property: str
    older: str
    newer: str
    first: str | None  # None: no change is expected (a range that covers the whole table)
    before: str  # the verdict expected on older's side
    after: str  # on newer's side


def expected_verdict(entries: list[Divergence], release: str) -> str:
    for d in entries:
        if d.applies_to(release):
            return f"expected_divergence ({d.status})"
    return "passed"


def boundaries(prop: str, entries: list[Divergence], releases: list[str]) -> list[Boundary]:
    """The bisections that check one property's ranges over ``releases`` (oldest first).

    The releases fall into runs of equal expected verdict; each change between two
    runs is searched from the first release of the earlier run to the last of the
    later one, so exactly one change is expected inside. A property whose ranges
    cover every release is checked at both ends.
    """
    runs: list[tuple[str, list[str]]] = []
    for release in releases:
        verdict = expected_verdict(entries, release)
        if runs and runs[-1][0] == verdict:
            runs[-1][1].append(release)
        else:
            runs.append((verdict, [release]))
    if len(runs) == 1:
        return [Boundary(prop, releases[0], releases[-1], None, runs[0][0], runs[0][0])]
    return [Boundary(prop, a[1][0], b[1][-1], b[1][0], a[0], b[0]) for a, b in itertools.pairwise(runs)]


# --------------------------------------------------------------------------- commits between two checkouts


def commits_between(older: Path, newer: Path) -> list[str] | None:
    """HEAD of ``older``, the first-parent commits after it, up to HEAD of ``newer``; None unless both are
    checkouts of one repository with ``older``'s HEAD an ancestor of ``newer``'s."""
    git = shutil.which("git")
    if git is None:
        return None

    def run(tree: Path, *args: str) -> str | None:
        done = subprocess.run([git, "-C", str(tree), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    a, b = run(older, "rev-parse", "HEAD"), run(newer, "rev-parse", "HEAD")
    if not a or not b or a == b or run(newer, "cat-file", "-e", f"{a}^{{commit}}") is None:
        return None
    if subprocess.run([git, "-C", str(newer), "merge-base", "--is-ancestor", a, b]).returncode != 0:
        return None
    between = run(newer, "rev-list", "--first-parent", "--reverse", f"{a}..{b}")
    return [a, *(between or "").split()] if between else None


def export_commit(repo: Path, commit: str, dest: Path) -> Path:
    """The tree of ``commit`` (from ``repo``'s object store) unpacked into ``dest``/<commit>; reused if there."""
    tree = dest / commit
    if (tree / ".complete").is_file():
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(repo), "archive", commit], stdout=subprocess.PIPE)
    unpacked = subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout)
    if archive.wait() != 0 or unpacked.returncode != 0:
        raise OSError(f"cannot export commit {commit} of {repo}")
    (tree / ".complete").touch()
    return tree
