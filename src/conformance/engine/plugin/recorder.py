"""Controller side: every verdict as it arrives, including those of workers that died."""

from __future__ import annotations

import json
from typing import Any

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
    return nodeid[: nodeid.rindex("@")] if nodeid.rfind("@") > nodeid.rfind("]") else nodeid


def property_of_nodeid(nodeid: str) -> tuple[registry.Property, str | None] | None:
    """The property a (controller-side) node id runs, and its implementation parameter."""
    module_path, _, rest = _without_group(nodeid).partition("::")
    name, _, param = rest.partition("[")
    # The document's package and the module: function names repeat across documents.
    where = module_path.removesuffix(".py").split("/")[-2:]
    for prop in registry.discover().values():
        if prop.module.split(".")[-2:] == where and prop.qualname == name:
            return prop, param.rstrip("]") or None
    return None


def _crash_result(report: pytest.TestReport) -> Result | None:
    """A worker died while running a property (no user properties came back)."""
    text = str(report.longrepr or "")
    if "crashed while running" not in text and "worker" not in text:
        return None
    found = property_of_nodeid(report.nodeid)
    if found is None:
        return None
    prop, param = found
    status = CRASHED
    message = (
        f"the worker process died while running {prop.id}: {text.strip().splitlines()[-1] if text.strip() else ''}"
    )
    marker = marker_path(report.nodeid)
    if marker is not None and marker.exists():
        status = TIMEOUT
        message = f"[{prop.id}] hung inside native code past --timeout; the worker was stopped"
    return Result(
        id=prop.id,
        document=prop.document,
        kind=prop.kind,
        title=prop.title,
        status=status,
        message=message,
        implementation=param,
    )


class Recorder:
    """Controller-side: gathers every verdict and writes the report when the session ends.

    The first verdict of a property is kept: a worker that ended itself after
    reporting (out of memory) is then also reported crashed by xdist. When the
    run was stopped at its deadline, every property without a verdict gets
    ``timeout``, so the report is complete, not partial.
    """

    def __init__(self, run: RunReport):
        self.run = run
        self.expected: list[str] = []  # node ids collected, once known
        self.reported: set[str] = set()
        self.stopped: str | None = None  # why the run was stopped early, if it was

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not self.expected:  # without xdist; with it, the controller collects nothing
            self.expected = [item.nodeid for item in session.items]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.expected:
            self.expected = list(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = _result_from_report(report)
        if result is None and report.failed:
            result = _crash_result(report)
        if result is not None and _without_group(report.nodeid) not in self.reported:
            self.reported.add(_without_group(report.nodeid))
            self.run.add(result, nodeid=report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.stopped is None:
            self.run.finish(partial=exitstatus == pytest.ExitCode.INTERRUPTED)
            return
        for nodeid in self.expected:
            found = property_of_nodeid(nodeid)
            if found is None or _without_group(nodeid) in self.reported:
                continue
            prop, param = found
            self.reported.add(_without_group(nodeid))
            self.run.results.append(
                Result(
                    id=prop.id,
                    document=prop.document,
                    kind=prop.kind,
                    title=prop.title,
                    status=TIMEOUT,
                    implementation=param,
                    message=f"[{prop.id}] no verdict: {self.stopped}",
                )
            )
        self.run.finish(partial=False)
