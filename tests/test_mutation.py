"""The catalogue's strength: every mutant is killed, every conforming variant passes,
and every property is proven able to fail.

An implementation property is proven by a mutant it kills. A framework property
is proven by a Flax mutant (a patched Flax) it kills, or by a Flax release it
fails on (a range in properties/expectations.toml). One `conformance mutants` run
(the derandomized ci profile, every mutant, Flax mutant and variant) feeds all the
assertions below. It runs each mutant only on the properties its CAUGHT_BY names,
which must all reject it: that is all these tests ask of a mutant, and the other
pairs were most of the time of a full matrix.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import REPO, read, run_cli

from conformance.engine.mutants import discover_flax_mutants, discover_mutants
from conformance.engine.registry import discover

# Implementation properties that no single-defect mutant can reach, with the reason.
# Reviewed: keep this empty unless a mutant truly cannot exist.
UNREACHABLE: dict[str, str] = {}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("mutants") / "kill_table.json"
    # 15 derandomized examples kill every mutant (the slowest to die, on 2026-12-04, at its 8th, explicit
    # examples included); the reference and the conforming variants take 1 besides one explicit example
    # per big shape of the pool, where their cost is (their compilations at real sizes): together they
    # keep make test within its time. `make mutants` runs the full 100 on every pair.
    proc = run_cli(
        "mutants", "--profile", "ci", "--max-examples", "15", "--conforming-examples", "1", "--only-declared",
        "--json", str(path), timeout=1800,
    )  # fmt: skip
    assert path.exists(), f"conformance mutants wrote no report\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    data = read(path)
    data["exit_code"] = proc.returncode
    return data


def test_only_declared_runs_a_mutant_on_its_caught_by_and_a_variant_on_everything():
    mutant = next(m for m in discover_mutants() if m.name == "m01_stop_gradient_second_site")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "properties",
            "-p",
            "no:cacheprovider",
            "--collect-only",
            "-q",
            "--impl",
            mutant.target,
            "--impl",
            "conformance.implementations.variants.plain_dense",
            "--kind",
            "implementation",
            "--only-declared",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    collected = re.findall(r"::test_(\w+)\[(\w+)", proc.stdout)
    for_mutant = {name.replace("_", "-") for name, impl in collected if impl == mutant.name}
    assert for_mutant == {pid.split("-", 1)[1] for pid in mutant.caught_by}, (for_mutant, proc.stdout[-2000:])
    for_variant = sum(impl == "plain_dense" for _, impl in collected)
    assert for_variant == sum(p.kind == "implementation" for p in discover().values()), proc.stdout[-2000:]


def test_there_are_at_least_25_mutants_each_stating_its_defect():
    mutants = discover_mutants()
    assert len(mutants) >= 25, f"only {len(mutants)} mutants"
    props = discover()
    for m in mutants:
        assert m.defect and m.caught_by, f"{m.name}: state DEFECT and CAUGHT_BY"
        unknown = [p for p in m.caught_by if p not in props]
        assert not unknown, f"{m.name}: CAUGHT_BY names unknown properties {unknown}"


def test_flax_mutants_state_their_change_and_name_framework_properties():
    props = discover()
    for m in discover_flax_mutants():
        assert m.defect and m.caught_by, f"{m.name}: state DEFECT and CAUGHT_BY"
        wrong = [p for p in m.caught_by if p not in props or props[p].kind != "framework"]
        assert not wrong, f"{m.name}: CAUGHT_BY must name framework properties, not {wrong}"


@pytest.mark.parametrize("kind", ["mutants", "flax_mutants"])
def test_every_mutant_is_killed_by_the_properties_meant_to_catch_it(table, kind):
    survivors = [m["name"] for m in table[kind] if not m["killed"]]
    assert not survivors, f"{kind} that no property rejects: {survivors}"
    missed = {m["name"]: m["missed_expected"] for m in table[kind] if m["missed_expected"]}
    assert not missed, f"{kind} not rejected by the property declared in their CAUGHT_BY: {missed}"


def test_every_conforming_variant_passes(table):
    rejected = {c["name"]: c["rejected_by"] for c in table["conforming"] if not c["passed"]}
    assert not rejected, f"conforming implementations rejected: {rejected}"


def test_every_property_meets_every_big_shape_on_the_conforming_implementations(table):
    # Each big value of the pool gets one explicit example; a passing property that assume()d it away
    # (as 01-fw-one-instance-one-param-set once did at 1 x 3348, near relu's kink) says less than it seems.
    unmet = {c["name"]: c["big_unmet"] for c in table["conforming"] if c["big_unmet"]}
    if table["framework_big_unmet"]:
        unmet["flax"] = table["framework_big_unmet"]
    assert not unmet, f"passing properties that never met a big value of the ci pool: {unmet}"


def test_every_implementation_property_kills_a_mutant(table):
    idle = [
        p["id"]
        for p in table["properties"]
        if p["kind"] == "implementation" and not p["kills"] and p["id"] not in UNREACHABLE
    ]
    assert not idle, (
        f"properties that reject no mutant: {idle}. Add a mutant in implementations/mutants/ "
        "whose CAUGHT_BY names the property, or record why none can exist in UNREACHABLE."
    )


def test_every_framework_property_is_proven_by_a_flax_mutant_or_a_release(table):
    framework = [p for p in table["properties"] if p["kind"] == "framework"]
    assert len(framework) == sum(p.kind == "framework" for p in discover().values())
    unproven = [p["id"] for p in framework if not p["kills"] and not p["fails_on_flax"]]
    assert not unproven, (
        f"framework properties that nothing shows able to fail: {unproven}. Add a Flax mutant "
        "in implementations/flax_mutants/ whose CAUGHT_BY names the property."
    )


def test_mutants_command_exits_0_at_full_score(table):
    assert table["score"]["ratio"] == 1.0 and table["flax_score"]["ratio"] == 1.0 and table["exit_code"] == 0


def test_the_kill_table_skips_only_what_would_rerun_the_references_code():
    from conformance.engine.loading import load_implementation

    reference = load_implementation("conformance.implementations.reference")
    mutant = load_implementation("conformance.implementations.mutants.m04_one_layer_short")
    props = discover().values()
    block_only = [p for p in props if p.needs == ("TransformerBlock",)]
    stacked = [p for p in props if "SharedTransformer" in p.needs]
    assert block_only and all(mutant.same_as(reference, p.needs) for p in block_only), (
        "the mutant reuses the reference's TransformerBlock: its block properties would rerun the reference"
    )
    assert stacked and not any(mutant.same_as(reference, p.needs) for p in stacked), (
        "a property that calls the mutated SharedTransformer must run"
    )


def test_mutants_only_checks_one_new_mutant_alone(tmp_path):
    """What a contributor runs after writing a mutant: that mutant, nothing else, and the verdict in the exit code."""
    path = tmp_path / "one.json"
    proc = run_cli(
        "mutants", "--only", "m05_bias_float16", "--profile", "ci", "--max-examples", "5", "--only-declared",
        "--json", str(path), timeout=600,
    )  # fmt: skip
    table = read(path)
    assert [m["name"] for m in table["mutants"]] == ["m05_bias_float16"], table["mutants"]
    assert table["flax_mutants"] == [] and table["conforming"] == [], "--only leaves every other implementation out"
    assert table["mutants"][0]["killed"] and proc.returncode == 0, proc.stdout[-2000:]
    unknown = run_cli("mutants", "--only", "m99_no_such_mutant", timeout=120)
    assert unknown.returncode == 2 and "names no mutant" in unknown.stderr, unknown.stderr
