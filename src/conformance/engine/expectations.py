"""Known divergences between the documents and a Flax release.

The reviewed list lives in ``properties/expectations.toml``. A framework
property that fails on a release inside a listed range is reported as
``expected_divergence``; one that fails outside every range is a regression.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import Version


@dataclass(frozen=True)
class Divergence:
    property: str
    flax: SpecifierSet
    reason: str
    example: dict[str, Any]

    def applies_to(self, flax_version: str) -> bool:
        return Version(flax_version) in self.flax


def parse_expectations(text: str) -> tuple[Divergence, ...]:
    data = tomllib.loads(text)
    out = []
    for i, entry in enumerate(data.get("divergence", [])):
        missing = {"property", "flax", "reason"} - entry.keys()
        if missing:
            raise ValueError(f"expectations.toml divergence #{i + 1} lacks {sorted(missing)}")
        out.append(
            Divergence(
                property=entry["property"],
                flax=SpecifierSet(entry["flax"]),
                reason=" ".join(entry["reason"].split()),
                example=dict(entry.get("example", {})),
            )
        )
    return tuple(out)


@functools.cache
def load_expectations() -> tuple[Divergence, ...]:
    text = resources.files("conformance.properties").joinpath("expectations.toml").read_text()
    return parse_expectations(text)


def divergence_for(prop_id: str, flax_version: str) -> Divergence | None:
    for d in load_expectations():
        if d.property == prop_id and d.applies_to(flax_version):
            return d
    return None
