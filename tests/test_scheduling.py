"""Workers share no compilation cache, so the properties of a document run on one worker.

`conformance run` passes ``--dist loadgroup`` (plugin.scheduling.xdist_args) and the
plugin marks every property with its group (plugin.scheduling.group). Nothing fails when grouping silently stops
working (pytest 9.2 with pytest-xdist 3.8 ignores the groups, pytest-xdist#1386);
the run just compiles every shared program twice. This test notices.
"""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO
from conformance.engine.plugin import xdist_args


def test_each_document_runs_on_one_worker():
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "properties", "-p", "no:cacheprovider", "-v", *xdist_args(2),
         "--conformance-profile", "dev", "--only", "03-*", "--only", "05-*"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    ran = re.findall(r"^\[(gw\d+)\] .*? (properties/\S+)", proc.stdout, re.M)
    assert len(ran) >= 10, f"too few properties ran:\n{proc.stdout[-3000:]}"
    workers: dict[str, set[str]] = {}
    for worker, nodeid in ran:
        group = nodeid.rpartition("@")[2] if "@" in nodeid else None
        assert group is not None, f"{nodeid} carries no @group: xdist ignored the groups (pytest-xdist#1386?)"
        workers.setdefault(group, set()).add(worker)
    assert set(workers) == {"03-reference", "05-reference"}, sorted(workers)
    split = {g: sorted(w) for g, w in workers.items() if len(w) > 1}
    assert not split, f"groups spread over several workers: {split}"
