"""Known divergences between the documents and a Flax release.

The reviewed list lives in ``properties/expectations.toml``. Each entry names
the status it expects (``failed``: the claim is violated; ``error``: Flax raises
before the claim can be checked). A framework property that ends with that status
on a release inside the entry's range is reported as ``expected_divergence``; one
that fails outside every range, or ends with the other status (it starts raising
where it used to fail), is a regression.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import Version

# The statuses an entry may expect: a property that times out or crashes is never a known divergence.
EXPECTABLE = ("failed", "error")


@dataclass(frozen=True)
class Divergence:
    property: str
    flax: SpecifierSet
    status: str
    reason: str
    example: dict[str, Any]

    def applies_to(self, flax_version: str) -> bool:
        # Pre-releases and dev builds (a Flax checkout's 0.13.0.dev0) fall inside a range like any release.
        return self.flax.contains(Version(flax_version), prereleases=True)


def parse_expectations(text: str) -> tuple[Divergence, ...]:
    data = tomllib.loads(text)
    out = []
    for i, entry in enumerate(data.get("divergence", [])):
        missing = {"property", "flax", "status", "reason"} - entry.keys()
        if missing:
            raise ValueError(f"expectations.toml divergence #{i + 1} lacks {sorted(missing)}")
        if entry["status"] not in EXPECTABLE:
            raise ValueError(
                f"expectations.toml divergence #{i + 1} ({entry['property']}): status must be one of "
                f"{', '.join(EXPECTABLE)}, not {entry['status']!r}"
            )
        out.append(
            Divergence(
                property=entry["property"],
                flax=SpecifierSet(entry["flax"]),
                status=entry["status"],
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
