"""The catalogue's metadata: every property is linked to its document and says what to check."""

from __future__ import annotations

import re

import pytest
from conftest import DOCUMENTS_MISSING, documents_dir

from conformance.engine.contract import BY_NAME
from conformance.engine.expectations import load_expectations
from conformance.engine.registry import DOCUMENTS, KINDS, discover

PROPS = discover()
ID = re.compile(r"^0[1-5]-(fw-)?[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.mark.parametrize("prop", PROPS.values(), ids=list(PROPS))
def test_property_metadata_is_complete(prop):
    missing = [f for f in ("document", "section", "title", "hint") if not getattr(prop, f).strip()]
    assert not missing, (
        f"{prop.id} has no {', '.join(missing)}: register it with conformance_property(..., {missing[0]}=...)"
    )
    assert ID.match(prop.id), f"{prop.id}: ids look like '01-forward-matches-construction' (framework: '01-fw-...')"
    assert prop.document in DOCUMENTS and prop.id.startswith(prop.document), (
        f"{prop.id}: id must start with its document {prop.document}"
    )
    assert prop.kind in KINDS
    assert (prop.kind == "framework") == prop.id[3:].startswith("fw-"), (
        f"{prop.id}: framework ids carry 'fw-', implementation ids do not"
    )
    unknown = [n for n in prop.needs if n not in BY_NAME]
    assert not unknown, f"{prop.id} needs {unknown}, which the contract (conformance/contract.py) does not define"


def test_catalogue_covers_documents_01_02_03_05_with_at_least_30_properties():
    n = sum(1 for p in PROPS.values() if p.document in ("01", "02", "03", "05"))
    assert n >= 30, f"only {n} properties for documents 01, 02, 03 and 05"
    for doc in ("01", "02", "03", "05"):
        kinds = {p.kind for p in PROPS.values() if p.document == doc}
        assert kinds == {"implementation", "framework"}, f"document {doc} has only {kinds} properties"


def test_every_expected_divergence_names_a_framework_property_and_pins_an_example():
    entries = load_expectations()
    for d in entries:
        assert d.property in PROPS, f"expectations.toml names unknown property {d.property}"
        assert PROPS[d.property].kind == "framework", f"{d.property}: only framework claims can diverge by release"
        assert d.reason, f"{d.property}: say what the release actually does"
    for prop in {d.property for d in entries}:
        assert any(d.example for d in entries if d.property == prop), (
            f"{prop}: pin the counterexample (example = {{...}}) in one of its entries so every run tries it"
        )


def test_an_input_rejected_by_assume_is_not_a_failure():
    from hypothesis import assume, given, settings
    from hypothesis import strategies as st

    from conformance.engine import registry

    @settings(max_examples=20, database=None, derandomize=True)
    @given(n=st.integers(0, 10))
    def prop(n):
        assume(n % 2 == 0)

    registry._instrument(prop)
    log = registry.reset_log()
    prop()
    # A recorded failure would also start the shrink clock, stopping a long property after SHRINK_SECONDS.
    assert log.examples > 0 and log.failures == 0 and log.first_failure_at is None and log.failing_inputs is None


def test_pinned_examples_reach_the_property_as_drawn_values():
    from conformance.engine.registry import as_drawn

    assert as_drawn([3, [1, 2]]) == (3, (1, 2)) and as_drawn(0) == 0 and as_drawn("a") == "a"
    for d in load_expectations():
        pinned = {name: as_drawn(value) for name, value in d.example.items()}
        hash(tuple(pinned.items()))  # the run records each example's sizes in a set


def test_divergence_ranges_of_one_property_do_not_overlap():
    from itertools import combinations

    releases = [f"0.{minor}.{patch}" for minor in range(8, 14) for patch in range(12)]
    entries = load_expectations()
    for a, b in combinations(entries, 2):
        if a.property == b.property:
            both = [v for v in releases if a.applies_to(v) and b.applies_to(v)]
            assert not both, f"{a.property}: ranges {a.flax} and {b.flax} overlap at {both[:3]}"


def _document_package(prop):
    import importlib

    return importlib.import_module(prop.module.rsplit(".", 1)[0])


@pytest.mark.parametrize("prop", PROPS.values(), ids=list(PROPS))
def test_property_cites_a_section_its_document_package_names(prop):
    package = _document_package(prop)
    sections = {v for k, v in vars(package.Section).items() if not k.startswith("_")}
    assert prop.document == package.DOCUMENT, (
        f"{prop.id} lives in {package.__name__}, the package of document {package.DOCUMENT}"
    )
    assert prop.section in sections, (
        f"{prop.id}: section {prop.section!r} is not one of {package.__name__}.Section's "
        f"headings {sorted(sections)}: cite it as section=Section.NAME"
    )


DOCS = documents_dir()


def _headings(path):
    """Lines that stand alone in the document, Markdown heading marks removed."""
    return {line.strip().lstrip("#").strip() for line in path.read_text().splitlines() if line.strip()}


@pytest.mark.skipif(DOCS is None, reason=DOCUMENTS_MISSING)
@pytest.mark.parametrize("package", sorted({p.module.rsplit(".", 1)[0] for p in PROPS.values()}))
def test_section_names_are_the_documents_own_headings(package):
    import importlib

    pkg = importlib.import_module(package)
    source = DOCS / pkg.SOURCE
    assert source.is_file(), f"{package}.SOURCE names {pkg.SOURCE}, which is not in {DOCS}"
    headings = _headings(source)
    assert pkg.TITLE in headings, f"{package}.TITLE {pkg.TITLE!r} is not a line of {pkg.SOURCE}"
    missing = {k: v for k, v in vars(pkg.Section).items() if not k.startswith("_") and v not in headings}
    assert not missing, f"{package}.Section names headings that {pkg.SOURCE} does not have: {missing}"
