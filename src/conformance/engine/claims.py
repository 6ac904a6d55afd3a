"""The claims catalogue: every statement of the five documents, and what checks it.

Each document package under ``properties/`` holds a hand-edited ``claims.toml``:
its statements (``[[claim]]``: a stable id ``NN-Cxx``, the heading it sits under,
a one-line restatement, the property ids that check it, how fully, and why not
fully), and the properties that check no statement (``unclaimed_properties``,
each with its reason). The catalogue owns the claim <-> property mapping; the
properties do not repeat it.

:func:`load_catalogues` reads and validates all five and raises
:class:`CatalogueError` (one line per problem) when one is malformed;
:func:`traceability` is what ``conformance claims`` prints.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import ModuleType
from typing import Any

from conformance.engine.registry import PROPERTIES_PACKAGE, Property

CATALOGUE_FILE = "claims.toml"
COVERAGE = ("full", "partial", "none", "not-checkable")
# Coverage values that say some property checks the claim (and so must name one).
CHECKED = ("full", "partial")
CLAIM_ID = re.compile(r"^(0[1-5])-C(\d{2,})$")
_TOP_KEYS = {"document", "title", "source", "claim", "unclaimed_properties"}
_CLAIM_KEYS = {"id", "section", "says", "properties", "coverage", "reason"}


class CatalogueError(Exception):
    """A claims catalogue that cannot be read or breaks a rule; the message lists every problem."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Claim:
    id: str
    document: str
    section: str
    says: str
    properties: tuple[str, ...]
    coverage: str
    reason: str

    @property
    def number(self) -> int:
        return int(self.id.split("-C", 1)[1])

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "says": self.says,
            "coverage": self.coverage,
            "properties": list(self.properties),
            "reason": self.reason or None,
        }


@dataclass(frozen=True)
class Unclaimed:
    """A property that checks no statement of its document, and why it exists."""

    id: str
    document: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "document": self.document, "reason": self.reason}


@dataclass(frozen=True)
class Catalogue:
    document: str
    title: str
    source: str
    where: str  # the file, for messages
    claims: tuple[Claim, ...]
    unclaimed: tuple[Unclaimed, ...]


@dataclass(frozen=True)
class DocumentPackage:
    """What a catalogue is checked against: its document package's constants."""

    document: str
    title: str
    source: str
    sections: frozenset[str]
    module: ModuleType | None = None


def document_packages() -> list[DocumentPackage]:
    """The ``properties.docNN_*`` packages, in document order."""
    root = importlib.import_module(PROPERTIES_PACKAGE)
    found = []
    for info in pkgutil.iter_modules(root.__path__, f"{PROPERTIES_PACKAGE}."):
        if info.ispkg and info.name.rsplit(".", 1)[-1].startswith("doc"):
            module = importlib.import_module(info.name)
            sections = frozenset(v for k, v in vars(module.Section).items() if not k.startswith("_"))
            found.append(DocumentPackage(module.DOCUMENT, module.TITLE, module.SOURCE, sections, module))
    return sorted(found, key=lambda p: p.document)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse(text: str, package: DocumentPackage, where: str) -> tuple[Catalogue, list[str]]:
    """One catalogue's text, checked on its own (not against the registry): the catalogue and its problems."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Catalogue(package.document, "", "", where, (), ()), [f"{where}: not valid TOML: {exc}"]
    problems: list[str] = []
    say = problems.append
    for key in sorted(set(data) - _TOP_KEYS):
        say(f"{where}: unknown top-level key {key!r} (expected {sorted(_TOP_KEYS)})")
    for key, want in (("document", package.document), ("title", package.title), ("source", package.source)):
        if data.get(key) != want:
            say(f"{where}: {key} = {data.get(key)!r}, but the package's {key.upper()} is {want!r}")
    claims = []
    raw_claims = data.get("claim", [])
    if not isinstance(raw_claims, list) or not raw_claims:
        say(f"{where}: no [[claim]] tables")
        raw_claims = []
    for i, raw in enumerate(raw_claims):
        cid = raw.get("id") if isinstance(raw.get("id"), str) else f"claim #{i + 1}"
        at = f"{where}: {cid}"
        for key in sorted(set(raw) - _CLAIM_KEYS):
            say(f"{at}: unknown key {key!r} (expected {sorted(_CLAIM_KEYS)})")
        match = CLAIM_ID.match(cid)
        if not match:
            say(f"{at}: ids look like '{package.document}-C01' (NN-C and two or more digits)")
        elif match.group(1) != package.document:
            say(f"{at}: the id must start with this catalogue's document {package.document}")
        section, says, reason, coverage = (
            _text(raw.get("section")),
            _text(raw.get("says")),
            _text(raw.get("reason")),
            raw.get("coverage"),
        )
        if section not in package.sections:
            say(
                f"{at}: section {raw.get('section')!r} is not one of the package's Section headings {sorted(package.sections)}"
            )
        if not says:
            say(f"{at}: 'says' is empty: restate the statement in one line of our own words")
        elif "\n" in says:
            say(f"{at}: 'says' must be one line")
        props = raw.get("properties", [])
        if not isinstance(props, list) or not all(isinstance(p, str) for p in props):
            say(f"{at}: properties must be a list of property ids")
            props = []
        if len(set(props)) != len(props):
            say(f"{at}: properties names a property twice")
        if coverage not in COVERAGE:
            say(f"{at}: coverage {coverage!r} is not one of {', '.join(COVERAGE)}")
        elif coverage != "full" and not reason:
            say(f"{at}: coverage {coverage!r} needs a reason (what is missing, or why nothing can be checked)")
        if coverage in CHECKED and not props:
            say(f"{at}: coverage {coverage!r} names no property: list the properties that check it, or use 'none'")
        if coverage in ("none", "not-checkable") and props:
            say(f"{at}: coverage {coverage!r} but it names properties {props}: use 'partial' or 'full'")
        claims.append(Claim(cid, package.document, section, says, tuple(props), str(coverage), reason))
    ids = [c.id for c in claims]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        say(f"{where}: claim id {dup} is used {ids.count(dup)} times")
    unclaimed = []
    raw_unclaimed = data.get("unclaimed_properties", [])
    if not isinstance(raw_unclaimed, list):
        say(f"{where}: unclaimed_properties must be a list of {{id = ..., reason = ...}}")
        raw_unclaimed = []
    for entry in raw_unclaimed:
        pid, reason = (entry.get("id"), _text(entry.get("reason"))) if isinstance(entry, dict) else (None, "")
        if not isinstance(pid, str) or not reason:
            say(f"{where}: unclaimed_properties entry {entry!r} needs an id and a reason")
            continue
        if not pid.startswith(package.document + "-"):
            say(f"{where}: unclaimed property {pid} belongs to another document's catalogue")
        unclaimed.append(Unclaimed(pid, package.document, reason))
    return Catalogue(
        package.document, _text(data.get("title")), _text(data.get("source")), where, tuple(claims), tuple(unclaimed)
    ), problems


def check_against_registry(catalogues: list[Catalogue], props: Mapping[str, Property]) -> list[str]:
    """Problems across catalogues: unknown property ids, ids used twice, unclaimed properties that are claimed."""
    problems: list[str] = []
    named = {p for cat in catalogues for c in cat.claims for p in c.properties}
    for cat in catalogues:
        for c in cat.claims:
            unknown = [p for p in c.properties if p not in props]
            if unknown:
                problems.append(
                    f"{cat.where}: {c.id} names unknown property id(s) {', '.join(unknown)} "
                    "(`conformance list` shows the registered ones)"
                )
        for u in cat.unclaimed:
            if u.id not in props:
                problems.append(f"{cat.where}: unclaimed_properties lists unknown property id {u.id}")
            elif u.id in named:
                problems.append(
                    f"{cat.where}: {u.id} is listed as unclaimed but a claim names it: drop it from unclaimed_properties"
                )
    all_ids = [c.id for cat in catalogues for c in cat.claims]
    for dup in sorted({i for i in all_ids if all_ids.count(i) > 1}):
        problems.append(f"claim id {dup} appears in more than one catalogue")
    return problems


def load_catalogues(props: Mapping[str, Property]) -> list[Catalogue]:
    """Every document package's catalogue, validated; :class:`CatalogueError` lists what is wrong."""
    catalogues, problems = [], []
    for package in document_packages():
        # Named as in the repository (properties/docNN_*/claims.toml), where contributors edit it.
        where = f"{PROPERTIES_PACKAGE.rsplit('.', 1)[-1]}/{package.module.__name__.rsplit('.', 1)[-1]}/{CATALOGUE_FILE}"
        source = resources.files(package.module) / CATALOGUE_FILE
        if not source.is_file():
            problems.append(f"{where}: missing: every document package holds its claims catalogue")
            continue
        catalogue, found = parse(source.read_text(encoding="utf-8"), package, where)
        catalogues.append(catalogue)
        problems += found
    problems += check_against_registry(catalogues, props)
    if problems:
        raise CatalogueError(problems)
    return catalogues


def claims_by_property(catalogues: list[Catalogue]) -> dict[str, list[str]]:
    """Property id -> the ids of the claims that name it (what ``conformance list`` shows)."""
    mapping: dict[str, list[str]] = {}
    for cat in catalogues:
        for c in cat.claims:
            for p in c.properties:
                mapping.setdefault(p, []).append(c.id)
    return mapping


def untraced_properties(catalogues: list[Catalogue], props: Mapping[str, Property]) -> list[str]:
    """Registered properties that no claim names and no catalogue lists as unclaimed: a gap to close."""
    traced = set(claims_by_property(catalogues)) | {u.id for cat in catalogues for u in cat.unclaimed}
    return sorted(p for p in props if p not in traced)


def _counts(
    claims: tuple[Claim, ...],
    doc_props: list[str],
    unclaimed: tuple[Unclaimed, ...],
    untraced: list[str],
    named: set[str],
) -> dict[str, int]:
    by = {c: sum(1 for x in claims if x.coverage == c) for c in COVERAGE}
    return {
        "claims": len(claims),
        "checkable": len(claims) - by["not-checkable"],
        **by,
        "claims_without_property": by["none"] + by["not-checkable"],
        "properties": len(doc_props),
        "properties_with_claim": sum(1 for p in doc_props if p in named),
        "properties_without_claim": len(unclaimed) + len(untraced),
        "properties_untraced": len(untraced),
    }


def traceability(
    catalogues: list[Catalogue],
    props: Mapping[str, Property],
    documents: list[str] | None = None,
    mutants: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The traceability table: per document its claims and counts, the unclaimed properties, and totals.

    Each claim also lists what checks it, ``checked_by``: every property's module and function, and the
    mutants that must fail it (``mutants``: property id -> names), so that one lookup leads from a claim
    to the code that checks it and the wrong implementations that prove that code.
    """
    mutants = mutants or {}

    def checked_by(c: Claim) -> list[dict[str, Any]]:
        return [
            {"id": p, "module": props[p].module, "function": props[p].qualname, "mutants": mutants.get(p, [])}
            for p in c.properties
            if p in props
        ]

    named = set(claims_by_property(catalogues))
    untraced = untraced_properties(catalogues, props)
    shown = [c for c in catalogues if not documents or c.document in documents]
    out: dict[str, Any] = {"documents": [], "unclaimed_properties": [], "untraced_properties": []}
    for cat in shown:
        doc_props = [p for p, prop in props.items() if prop.document == cat.document]
        doc_untraced = [p for p in untraced if props[p].document == cat.document]
        out["documents"].append(
            {
                "document": cat.document,
                "title": cat.title,
                "source": cat.source,
                "counts": _counts(cat.claims, doc_props, cat.unclaimed, doc_untraced, named),
                "claims": [{**c.as_dict(), "checked_by": checked_by(c)} for c in cat.claims],
            }
        )
        out["unclaimed_properties"] += [u.as_dict() for u in cat.unclaimed]
        out["untraced_properties"] += doc_untraced
    keys = out["documents"][0]["counts"] if out["documents"] else {}
    out["totals"] = {k: sum(d["counts"][k] for d in out["documents"]) for k in keys}
    return out
