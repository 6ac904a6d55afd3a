"""``conformance bisect ID --flax A B``: the first Flax build where one property's verdict changes.

Between two releases it searches the releases of the pair table from A to B;
between two checkouts of one git repository (B's HEAD descending from A's), the
first-parent commits from A to B; between any other two builds, just the two.
Only the property runs in each build (one process, the ``ci`` profile), and
only as many environments are built as the binary search visits
(:mod:`conformance.commands.releases.bisection`). Verdicts are compared as the
matrix diff compares them: a known divergence with how it showed (failed or
error).

``conformance bisect --expectations`` checks every range of
``properties/expectations.toml`` this way over the whole pair table: each change
of expected verdict must be found at the range's first release.

Exit status: 0 when the search finished (a change found, or none between the
ends; with ``--expectations``, every range confirmed), 1 when a candidate
could not be built or given an environment, or a range was not confirmed, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from conformance.engine.changes import status_of
from conformance.engine.expectations import load_expectations
from conformance.engine.files import write_text_atomic
from conformance.engine.runner import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError

from .releases import bisection
from .releases.builds import DIRECTORY, RELEASE, Column, parse_spec, plan, prepare
from .releases.columns import Workshop, add_run_options, run_column, workshop_from
from .releases.execution import catalogue
from .releases.pairs import load_compat, missing_pair_message


class EnvironmentFailed(Exception):
    """A candidate's environment could not be built: the search cannot tell its verdict."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("property", nargs="?", metavar="ID", help="the property whose verdict to follow")
    parser.add_argument(
        "--flax",
        nargs=2,
        metavar=("A", "B"),
        help="the older and the newer end: releases of the pair table, or local builds (wheel, sdist, directory)",
    )
    parser.add_argument("--jax", metavar="V", help="run every candidate with this jax (default: each one's pair)")
    parser.add_argument(
        "--expectations",
        action="store_true",
        help="check every range of properties/expectations.toml by bisecting the pair table",
    )
    parser.add_argument("--json", metavar="PATH", help="write the searches as JSON")
    add_run_options(parser, workers=0)


class Prober:
    """Runs one property in the column of each candidate it is asked about, and counts the environments."""

    def __init__(self, workshop: Workshop, prop: str, jax: str | None) -> None:
        self.workshop = workshop
        self.prop = prop
        self.jax = jax
        self.table = load_compat()
        self.expected = catalogue([prop])
        self.results: dict[str, dict[str, Any]] = {}  # candidate name -> its column, this property's result
        self.built = 0

    def column(self, candidate: str, repo: Path | None = None) -> Column:
        """The column of a release or a local build; with ``repo``, of that repository's commit ``candidate``."""
        if repo is not None:  # its tree, exported and built
            tree = bisection.export_commit(repo, candidate, self.workshop.cache / "trees")
            spec = replace(parse_spec(str(tree)), text=candidate[:10], jax=self.jax)
            build = replace(prepare(spec, self.workshop.cache, self.workshop.uv), commit=candidate)
        else:
            spec = parse_spec(candidate if self.jax is None else f"{candidate}@{self.jax}")
            build = prepare(spec, self.workshop.cache, self.workshop.uv)
        return plan([(spec, build)], None, self.table, self.workshop.lock)[0]

    def verdict(self, candidate: str, repo: Path | None = None) -> str:
        try:
            column = self.column(candidate, repo)
        except UsageError as exc:  # a build in the middle that cannot be made (a commit that does not build)
            raise EnvironmentFailed(f"{candidate}: {exc}") from None
        print(f"  probing flax {column.label} · jax {column.pair.jax} ...", flush=True)
        ran = run_column(column, self.workshop, self.expected)
        if "env_failed" in ran:
            raise EnvironmentFailed(f"flax {column.label} with jax {column.pair.jax}: {ran['env_failed']}")
        self.built += not ran["env_cached"]
        result = next((r for r in ran["results"] if r["id"] == self.prop), None)
        self.results[candidate] = {"column": ran, "result": result}
        verdict = status_of(result)
        cached = "cached environment" if ran["env_cached"] else "built its environment"
        print(f"    {verdict} ({ran['seconds']:.0f} s, {cached})", flush=True)
        return verdict


def _candidates(spec_a: str, spec_b: str, table: dict[str, Any]) -> tuple[list[str], Path | None, str]:
    """(candidates oldest first, the repository whose commits they are or None, what they are)."""
    a, b = parse_spec(spec_a), parse_spec(spec_b)
    if a.kind == RELEASE and b.kind == RELEASE:
        for spec in (a, b):  # the search runs over the table, so both ends must be in it
            if spec.what not in table:
                raise UsageError(missing_pair_message(spec.what, list(table)))
        between = bisection.releases_between(list(table), a.what, b.what)
        if not between or between[0] != a.what or between[-1] != b.what:
            raise UsageError(f"--flax {spec_a} {spec_b}: name the older release first, both from the pair table")
        return between, None, f"releases of the pair table from {a.what} to {b.what}"
    if a.kind == DIRECTORY and b.kind == DIRECTORY:
        commits = bisection.commits_between(Path(a.what), Path(b.what))
        if commits:
            return (
                commits,
                Path(b.what),
                f"first-parent commits of {b.what} from {commits[0][:10]} to {commits[-1][:10]}",
            )
    return [spec_a, spec_b], None, "the two builds (nothing lies between them)"


def _search(prober: Prober, spec_a: str, spec_b: str) -> dict[str, Any]:
    candidates, repo, what = _candidates(spec_a, spec_b, prober.table)
    start, built_before = time.monotonic(), prober.built
    print(f"bisect {prober.prop}: {len(candidates)} candidates, {what}", flush=True)
    found = bisection.bisect(candidates, lambda c: prober.verdict(c, repo))
    out: dict[str, Any] = {
        "property": prober.prop,
        "from": spec_a,
        "to": spec_b,
        "candidates": len(candidates),
        "visited": found.visited,
        "built": prober.built - built_before,
        "seconds": round(time.monotonic() - start, 1),
        "verdicts": {prober.results[candidates[i]]["column"]["label"]: v for i, v in found.verdicts.items()},
    }
    if found.changed:
        assert found.before is not None and found.after is not None, "a change has both sides"
        before, after = candidates[found.before], candidates[found.after]
        out.update(first=after, last_before=before)
        out["before"] = _side(prober, before)
        out["after"] = _side(prober, after)
    else:
        out["first"] = None
        out["ends"] = found.verdicts.get(0)
    return out


def _side(prober: Prober, candidate: str) -> dict[str, Any]:
    ran = prober.results[candidate]
    result = ran["result"] or {}
    return {
        "label": ran["column"]["label"],
        "jax": ran["column"]["jax"],
        "verdict": status_of(ran["result"]),
        "message": result.get("message", ""),
    }


def _print_search(out: dict[str, Any]) -> None:
    envs = f"{out['visited']} of {out['candidates']} candidates visited, {out['built']} environments built"
    if out["first"] is None:
        print(f"no change: {out['ends']} at both ends ({out['from']}, {out['to']}); {envs}, {out['seconds']:.0f} s")
        return
    before, after = out["before"], out["after"]
    print(f"first change: flax {after['label']} (jax {after['jax']}); {envs}, {out['seconds']:.0f} s")
    for side, name in ((before, "before"), (after, "after")):
        print(f"  {name}: flax {side['label']}: {side['verdict']}")
        for line in (side["message"] or "(no message)").splitlines():
            print(f"      {line}")


def _verify(prober_for: Any) -> tuple[list[dict[str, Any]], bool]:
    """Every expectations range, bisected over the whole pair table; (searches, all confirmed)."""
    table = sorted(load_compat(), key=bisection.Version)
    entries = load_expectations()
    searches, ok = [], True
    for prop in dict.fromkeys(d.property for d in entries):
        mine = [d for d in entries if d.property == prop]
        for boundary in bisection.boundaries(prop, mine, table):
            out = _search(prober_for(prop), boundary.older, boundary.newer)
            confirmed = out["first"] == boundary.first
            if boundary.first is None:
                confirmed = confirmed and out["ends"] == boundary.before
            else:
                confirmed = (
                    confirmed
                    and out["before"]["verdict"] == boundary.before
                    and out["after"]["verdict"] == boundary.after
                )
            out["expected"] = {"first": boundary.first, "before": boundary.before, "after": boundary.after}
            out["confirmed"] = confirmed
            _print_search(out)
            print(f"  {'confirmed' if confirmed else 'NOT CONFIRMED'}: expected {_expected_text(boundary)}\n")
            ok &= confirmed
            searches.append(out)
    return searches, ok


def _expected_text(b: bisection.Boundary) -> str:
    if b.first is None:
        return f"{b.before} from {b.older} to {b.newer}"
    return f"{b.before} up to the release before {b.first}, {b.after} from {b.first}"


def run(args: argparse.Namespace) -> int:
    try:
        one_search = bool(args.property and args.flax)
        if one_search == args.expectations or (args.expectations and (args.property or args.flax)):
            raise UsageError("give either ID --flax A B, or --expectations alone")
        workshop = workshop_from(args)
        if not args.expectations and args.property not in {e.id for e in catalogue([args.property])}:
            raise UsageError(f"unknown property id {args.property} (name one id; see `conformance list`)")
    except UsageError as exc:
        print(f"conformance bisect: {exc}")
        return EXIT_USAGE

    def prober_for(prop: str) -> Prober:
        return Prober(workshop_for(workshop, prop), prop, args.jax)

    try:
        if args.expectations:
            searches, ok = _verify(prober_for)
        else:
            searches = [_search(prober_for(args.property), *args.flax)]
            _print_search(searches[0])
            ok = True
    except UsageError as exc:
        print(f"conformance bisect: {exc}")
        return EXIT_USAGE
    except EnvironmentFailed as exc:
        print(f"conformance bisect: no environment for {exc}")
        return EXIT_FAILED
    if args.json:
        write_text_atomic(args.json, json.dumps({"searches": searches}, indent=2, default=str) + "\n")
    return EXIT_OK if ok else EXIT_FAILED


def workshop_for(workshop: Workshop, prop: str) -> Workshop:
    """The workshop with its run options narrowed to one property."""
    return replace(workshop, args=argparse.Namespace(**{**vars(workshop.args), "only": [prop]}))
