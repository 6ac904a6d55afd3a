"""The catalogue's strength: every mutant is killed, every conforming variant passes,
and every implementation property kills at least one mutant.

One `conformance mutants` run (the whole catalogue at the derandomized 100-example
profile against every mutant and variant) feeds all the assertions below.
"""

from __future__ import annotations

import pytest

from conftest import read, run_cli
from conformance.mutants import discover_mutants
from conformance.registry import discover

# Implementation properties that no single-defect mutant can reach, with the reason.
# Reviewed: keep this empty unless a mutant truly cannot exist.
UNREACHABLE: dict[str, str] = {}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    path = tmp_path_factory.mktemp("mutants") / "matrix.json"
    proc = run_cli("mutants", "--profile", "ci", "--json", str(path), timeout=1800)
    assert path.exists(), f"conformance mutants wrote no report\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    data = read(path)
    data["exit_code"] = proc.returncode
    return data


def test_there_are_at_least_25_mutants_each_stating_its_defect():
    mutants = discover_mutants()
    assert len(mutants) >= 25, f"only {len(mutants)} mutants"
    props = discover()
    for m in mutants:
        assert m.defect and m.caught_by, f"{m.name}: state DEFECT and CAUGHT_BY"
        unknown = [p for p in m.caught_by if p not in props]
        assert not unknown, f"{m.name}: CAUGHT_BY names unknown properties {unknown}"


def test_every_mutant_is_killed_by_the_properties_meant_to_catch_it(matrix):
    survivors = [m["name"] for m in matrix["mutants"] if not m["killed"]]
    assert not survivors, f"mutants that no property rejects: {survivors}"
    missed = {m["name"]: m["missed_expected"] for m in matrix["mutants"] if m["missed_expected"]}
    assert not missed, f"mutants not rejected by the property declared in their CAUGHT_BY: {missed}"


def test_every_conforming_variant_passes(matrix):
    rejected = {c["name"]: c["rejected_by"] for c in matrix["conforming"] if not c["passed"]}
    assert not rejected, f"conforming implementations rejected: {rejected}"


def test_every_implementation_property_kills_a_mutant(matrix):
    idle = [p["id"] for p in matrix["properties"] if not p["kills"] and p["id"] not in UNREACHABLE]
    assert not idle, (f"properties that reject no mutant: {idle}. Add a mutant in implementations/mutants/ "
                      "whose CAUGHT_BY names the property, or record why none can exist in UNREACHABLE.")


def test_mutants_command_exits_0_at_full_score(matrix):
    assert matrix["score"]["ratio"] == 1.0 and matrix["exit_code"] == 0
