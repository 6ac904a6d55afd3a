"""The run report: results as they arrive, the JSON file, and the terminal table."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from conformance.engine.files import write_json_atomic
from conformance.engine.outcomes import BAD, STATUSES, Result
from conformance.engine.versions import installed_versions


@dataclass
class RunReport:
    implementations: list[dict[str, Any]]
    versions: dict[str, str]
    profile: str
    json_path: str | None = None
    pool_seed: int | None = None
    precision: dict[str, Any] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    partial: bool = True

    @classmethod
    def start(
        cls,
        impls: list[Any],
        *,
        profile: str,
        json_path: str | None,
        pool_seed: int | None = None,
        precision: dict[str, Any] | None = None,
    ) -> RunReport:
        described = [
            {
                "target": i.target,
                "name": i.name,
                "path": i.path,
                "provides": i.provided(),
                "config_changes": {k: {"before": a, "after": b} for k, (a, b) in i.config_changes.items()},
            }
            for i in impls
        ]
        report = cls(
            implementations=described,
            versions=installed_versions(),
            profile=profile,
            json_path=json_path,
            pool_seed=pool_seed,
            precision=precision or {},
        )
        if json_path:
            report.write()  # an empty, partial report exists from the first second
        return report

    def add(self, result: Result, nodeid: str | None = None) -> None:
        self.results.append(result)
        if self.json_path:
            self.write()

    def finish(self, *, partial: bool) -> None:
        self.partial = partial
        if self.json_path:
            self.write()

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return counts

    def ok(self) -> bool:
        return not any(r.status in BAD for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        first = self.implementations[0] if self.implementations else None
        return {
            "implementation": first,
            "implementations": self.implementations,
            "versions": self.versions,
            "profile": self.profile,
            "pool_seed": self.pool_seed,
            "precision": self.precision,
            "partial": self.partial,
            "seconds": round(time.time() - self.started, 3),
            "summary": self.summary(),
            "results": [r.as_dict() for r in self.results],
        }

    def write(self) -> None:
        assert self.json_path
        write_json_atomic(self.json_path, self.as_dict())


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    with open(path) as fh:
        return json.load(fh)
