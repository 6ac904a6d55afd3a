"""The claims catalogue: every document statement is traced to properties or to a reason, and back."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from conftest import REPO, run_cli

from conformance.engine import claims as claims_mod
from conformance.engine.claims import (
    COVERAGE,
    CatalogueError,
    DocumentPackage,
    check_against_registry,
    document_packages,
    load_catalogues,
    parse,
)
from conformance.engine.registry import DOCUMENTS, discover

PROPS = discover()
CATALOGUES = load_catalogues(PROPS)  # raises, naming every problem, if a catalogue is malformed
CLAIMS = [c for cat in CATALOGUES for c in cat.claims]
PACKAGES = {p.document: p for p in document_packages()}


def test_every_document_has_a_catalogue():
    assert [c.document for c in CATALOGUES] == list(DOCUMENTS)
    for cat in CATALOGUES:
        package = PACKAGES[cat.document]
        assert (cat.title, cat.source) == (package.title, package.source), (
            f"{cat.where}: title/source differ from the package's"
        )
        assert cat.claims, f"{cat.where} has no claims"


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_every_claim_is_traced_to_properties_or_a_reason(claim):
    assert claim.coverage in COVERAGE, f"{claim.id}: coverage {claim.coverage!r}"
    if claim.coverage in ("full", "partial"):
        assert claim.properties, f"{claim.id} is {claim.coverage} but names no property"
    else:
        assert not claim.properties, f"{claim.id} is {claim.coverage} but names {claim.properties}"
    if claim.coverage != "full":
        assert claim.reason, f"{claim.id} is {claim.coverage}: say what is missing, or why it cannot be checked"
    unknown = [p for p in claim.properties if p not in PROPS]
    assert not unknown, f"{claim.id} names properties that do not exist: {unknown}"
    assert claim.says and "\n" not in claim.says, f"{claim.id}: 'says' is one line"


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_every_claim_cites_a_heading_of_its_document(claim):
    sections = PACKAGES[claim.document].sections
    assert claim.section in sections, f"{claim.id}: section {claim.section!r} is not one of {sorted(sections)}"


def test_every_property_is_named_by_a_claim_or_listed_as_unclaimed_with_a_reason():
    named = {p for c in CLAIMS for p in c.properties}
    unclaimed = {u.id: u.reason for cat in CATALOGUES for u in cat.unclaimed}
    missing = sorted(p for p in PROPS if p not in named and p not in unclaimed)
    assert not missing, (
        "these properties check no claim: name them in the claim they check, or list them in their "
        f"document's unclaimed_properties with a reason: {missing}"
    )
    assert all(unclaimed.values()), unclaimed
    both = sorted(set(unclaimed) & named)
    assert not both, f"listed as unclaimed although a claim names them: {both}"


def test_claim_ids_are_unique_and_never_removed():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for cat in CATALOGUES:
        assert all(re.fullmatch(rf"{cat.document}-C\d{{2,}}", c.id) for c in cat.claims), [c.id for c in cat.claims]
        numbers = sorted(c.number for c in cat.claims)
        holes = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        assert not holes, (
            f"{cat.where}: ids {[f'{cat.document}-C{n:02d}' for n in holes]} are missing. Ids are stable: "
            "keep a claim that no longer applies (coverage not-checkable, reason saying why) rather "
            "than delete or renumber"
        )


def test_claims_command_prints_the_traceability_as_json():
    proc = run_cli("claims", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    table = json.loads(proc.stdout)
    assert [d["document"] for d in table["documents"]] == list(DOCUMENTS)
    for doc in table["documents"]:
        counts = doc["counts"]
        assert counts["claims"] == len(doc["claims"]) == sum(counts[c] for c in COVERAGE)
        assert counts["checkable"] == counts["claims"] - counts["not-checkable"]
        assert {"id", "section", "says", "coverage", "properties", "reason"} <= set(doc["claims"][0])
    assert table["totals"]["claims"] == len(CLAIMS)
    assert table["totals"]["properties"] == len(PROPS)
    assert table["untraced_properties"] == []
    assert {u["id"] for u in table["unclaimed_properties"]} == {u.id for cat in CATALOGUES for u in cat.unclaimed}
    one = run_cli("claims", "--json", "--document", "03", timeout=300)
    assert [d["document"] for d in json.loads(one.stdout)["documents"]] == ["03"], one.stderr


def test_list_json_names_each_propertys_claims_from_the_catalogue():
    proc = run_cli("list", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    listed = {p["id"]: p["claims"] for p in json.loads(proc.stdout)}
    for c in CLAIMS:
        for p in c.properties:
            assert c.id in listed[p], f"list --json: {p} does not name {c.id}"
    assert sum(len(v) for v in listed.values()) == sum(len(c.properties) for c in CLAIMS)


def test_one_lookup_leads_from_a_claim_to_its_code_and_its_mutants():
    """claims --json names each checking property's module and function, and the mutants that prove it."""
    import importlib

    from conformance.engine.mutants import discover_flax_mutants, discover_mutants

    proc = run_cli("claims", "--json", "--document", "05", timeout=300)
    assert proc.returncode == 0, proc.stderr
    claims = json.loads(proc.stdout)["documents"][0]["claims"]
    by_mutant = {m.name: set(m.caught_by) for m in discover_mutants() + discover_flax_mutants()}
    for c in claims:
        assert [x["id"] for x in c["checked_by"]] == c["properties"], f"{c['id']}: checked_by and properties differ"
        for x in c["checked_by"]:
            fn = getattr(importlib.import_module(x["module"]), x["function"], None)
            assert fn is not None and fn.conformance_property.id == x["id"], f"{x} does not lead to {x['id']}"
            assert all(x["id"] in by_mutant[m] for m in x["mutants"]), f"{x['id']}: {x['mutants']}"
            assert x["mutants"] == sorted(m for m, ids in by_mutant.items() if x["id"] in ids)
    listed = {p["id"]: p for p in json.loads(run_cli("list", "--json", timeout=300).stdout)}
    assert listed["05-forward-matches-recipe"]["module"].endswith("doc05_nnx_state.test_nnx_state")
    assert listed["05-forward-matches-recipe"]["mutants"], "list --json names the mutants that must fail a property"


# --- the validator can fail ---------------------------------------------------------

PACKAGE = DocumentPackage("05", "T", "05.txt", frozenset({"Problem"}))
HEAD = 'document = "05"\ntitle = "T"\nsource = "05.txt"\n'


def _claim(**fields) -> str:
    base = {
        "id": "05-C01",
        "section": "Problem",
        "says": "something",
        "properties": [],
        "coverage": "none",
        "reason": "why",
    }
    base.update(fields)
    lines = [f"{k} = {json.dumps(v)}" for k, v in base.items() if v is not None]
    return "\n[[claim]]\n" + "\n".join(lines) + "\n"


def _problems(text: str) -> list[str]:
    return parse(text, PACKAGE, "x.toml")[1]


def test_a_well_formed_catalogue_has_no_problems():
    assert (
        _problems(
            HEAD
            + _claim()
            + _claim(id="05-C02", coverage="full", reason=None, properties=["05-forward-matches-recipe"])
        )
        == []
    )


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"coverage": "none", "reason": None}, "coverage 'none' needs a reason"),
        (
            {"coverage": "partial", "reason": "", "properties": ["05-forward-matches-recipe"]},
            "coverage 'partial' needs a reason",
        ),
        ({"coverage": "full", "reason": None}, "coverage 'full' names no property"),
        ({"coverage": "none", "properties": ["05-forward-matches-recipe"]}, "but it names properties"),
        ({"coverage": "mostly"}, "coverage 'mostly' is not one of"),
        ({"section": "Worked Example"}, "section 'Worked Example' is not one of the package's Section headings"),
        ({"id": "05-7"}, "ids look like '05-C01'"),
        ({"id": "04-C01"}, "must start with this catalogue's document 05"),
        ({"says": ""}, "'says' is empty"),
        ({"reviewed": True}, "unknown key 'reviewed'"),
    ],
)
def test_the_validator_rejects_a_malformed_claim(fields, expected):
    problems = _problems(HEAD + _claim(**fields))
    assert any(expected in p for p in problems), problems


def test_the_validator_rejects_duplicate_ids_a_wrong_title_and_bad_toml():
    assert any("05-C01 is used 2 times" in p for p in _problems(HEAD + _claim() + _claim()))
    assert any("title = 'U'" in p for p in _problems(HEAD.replace('"T"', '"U"') + _claim()))
    assert any("not valid TOML" in p for p in _problems(HEAD + "[[claim]\n"))


def test_the_validator_rejects_unknown_property_ids_and_bad_unclaimed_entries():
    text = (
        HEAD
        + 'unclaimed_properties = [{id = "05-forward-matches-recipe", reason = "r"}, {id = "05-gone", reason = "r"}]\n'
        + _claim(coverage="partial", properties=["05-forward-matches-recipe", "05-no-such-property"])
    )
    catalogue, problems = parse(text, PACKAGE, "x.toml")
    assert problems == []
    problems = check_against_registry([catalogue], PROPS)
    assert any("names unknown property id(s) 05-no-such-property" in p for p in problems), problems
    assert any("lists unknown property id 05-gone" in p for p in problems), problems
    assert any("05-forward-matches-recipe is listed as unclaimed but a claim names it" in p for p in problems), problems
    assert any(
        "needs an id and a reason" in p for p in _problems(HEAD + 'unclaimed_properties = [{id = "05-x"}]\n' + _claim())
    )


def test_a_malformed_catalogue_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    from conformance.commands.cli import main

    for package in PACKAGES.values():
        name = package.module.__name__.rsplit(".", 1)[-1]
        (tmp_path / name).mkdir()
        text = (REPO / "properties" / name / "claims.toml").read_text()
        if package.document == "02":  # a claim that is not checked and says nothing about why
            text = text.replace('coverage = "not-checkable"\nreason = "A judgement."', 'coverage = "none"', 1)
        (tmp_path / name / "claims.toml").write_text(text)
    monkeypatch.setattr(
        claims_mod, "resources", SimpleNamespace(files=lambda m: tmp_path / m.__name__.rsplit(".", 1)[-1])
    )
    for command in (["claims"], ["list", "--json"]):
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert "doc02_vmap/claims.toml: 02-C03: coverage 'none' needs a reason" in err, err
    with pytest.raises(CatalogueError):
        load_catalogues(PROPS)
