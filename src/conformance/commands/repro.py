"""Standalone reproduction scripts, one per failing property (``conformance run --repro-dir``).

Each script replays the shrunk input against the implementation module, with
no pytest and no Hypothesis search: ``python DIR/<id>.py`` raises the same
AssertionError (or the implementation's exception) that the run reported.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from conformance.engine.outcomes import BAD

_TEMPLATE = '''\
"""Replays {id} ({status}) against {target}.

{claim}
Run: python {filename}
"""
import json
import sys

sys.path[:0] = {paths!r}

from conformance.engine.loading import load_implementation
from conformance.engine.registry import discover

INPUTS = json.loads({inputs!r})
prop = discover()[{id!r}]
module = __import__(prop.module, fromlist=[prop.qualname])
test = getattr(module, prop.qualname)
args = {{"impl": load_implementation({target!r})}} if prop.kind == "implementation" else {{}}
test.hypothesis.inner_test(**args, **INPUTS)
print("{id}: the recorded input passes now")
'''


def write_repro_scripts(report: dict[str, Any], directory: str | Path) -> list[Path]:
    from conformance.engine.registry import properties_dir

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    repo = properties_dir().parent
    targets = {i["name"]: i["target"] for i in report.get("implementations") or []}
    written = []
    for r in report["results"]:
        if r["status"] not in BAD or r.get("inputs") is None:
            continue
        name = re.sub(r"[^A-Za-z0-9_]", "_", f"{r['implementation'] or 'framework'}__{r['id']}") + ".py"
        path = out / name
        path.write_text(
            _TEMPLATE.format(
                id=r["id"],
                status=r["status"],
                target=targets.get(r["implementation"], r["implementation"] or ""),
                claim=r["title"],
                filename=path,
                paths=[str(repo / "src"), str(repo)],
                inputs=json.dumps(r["inputs"], default=str),
            )
        )
        written.append(path)
    return written
