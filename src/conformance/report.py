"""The run report: results as they arrive, the JSON file, and the terminal table."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.outcomes import BAD, STATUSES, Result
from conformance.versions import installed_versions


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write to a temporary file beside ``path`` and rename it over: never a torn file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        # mkstemp creates 0600; a report is an ordinary file (0644 less the umask).
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, default=str)
            fh.write("\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class RunReport:
    implementations: list[dict[str, Any]]
    versions: dict[str, str]
    profile: str
    json_path: str | None = None
    results: list[Result] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    partial: bool = True

    @classmethod
    def start(cls, impls: list[Any], *, profile: str, json_path: str | None) -> "RunReport":
        described = [{
            "target": i.target, "name": i.name, "path": i.path,
            "provides": i.provided(),
            "config_changes": {k: {"before": a, "after": b} for k, (a, b) in i.config_changes.items()},
        } for i in impls]
        report = cls(implementations=described, versions=installed_versions(), profile=profile, json_path=json_path)
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
        counts = {s: 0 for s in STATUSES}
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
