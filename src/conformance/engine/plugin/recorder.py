"""Controller side: every verdict as it arrives, including those of workers that died."""

from __future__ import annotations

import json

import pytest

from conformance.engine import registry
from conformance.engine.outcomes import CRASHED, TIMEOUT, Result
from conformance.engine.plugin.timeouts import marker_path
from conformance.engine.plugin.verdicts import USER_KEY
from conformance.engine.report import RunReport


def _result_from_report(report: pytest.TestReport) -> Result | None:
    for key, value in report.user_properties:
        if key == USER_KEY:
            return Result(**json.loads(value))
    return None


def _without_group(nodeid: str) -> str:
    """The node id without the ``@group`` suffix that xdist's loadgroup appends."""
    return nodeid[:nodeid.rindex("@")] if nodeid.rfind("@") > nodeid.rfind("]") else nodeid


def _crash_result(report: pytest.TestReport) -> Result | None:
    """A worker died while running a property (no user properties came back)."""
    text = str(report.longrepr or "")
    if "crashed while running" not in text and "worker" not in text:
        return None
    module_path, _, rest = _without_group(report.nodeid).partition("::")
    name, _, param = rest.partition("[")
    props = registry.discover()
    # The document's package and the module: function names repeat across documents.
    where = module_path.removesuffix(".py").split("/")[-2:]
    for prop in props.values():
        if prop.module.split(".")[-2:] == where and prop.qualname == name:
            status, message = CRASHED, f"the worker process died while running {prop.id}: {text.strip().splitlines()[-1] if text.strip() else ''}"
            marker = marker_path(report.nodeid)
            if marker is not None and marker.exists():
                status = TIMEOUT
                message = f"[{prop.id}] hung inside native code past --timeout; the worker was stopped"
            return Result(id=prop.id, document=prop.document, kind=prop.kind, title=prop.title,
                          status=status, message=message, implementation=param.rstrip("]") or None)
    return None


class Recorder:
    """Controller-side: gathers every verdict and writes the report when the session ends."""

    def __init__(self, run: RunReport):
        self.run = run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = _result_from_report(report)
        if result is None and report.failed:
            result = _crash_result(report)
        if result is not None:
            self.run.add(result, nodeid=report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.run.finish(partial=exitstatus == pytest.ExitCode.INTERRUPTED)
