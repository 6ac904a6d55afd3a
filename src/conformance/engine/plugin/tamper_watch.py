"""In the controlling process: what it checks of the judging processes without trusting them.

With workers, the controlling process never imports an implementation (a
separate process describes it, :mod:`.placement`), so code that patches a
worker cannot reach the report or the exit status. This plugin:

- hashes the suite's files before any implementation code runs anywhere, looks
  at their sizes and times as each verdict arrives and at their contents at the
  end (:class:`conformance.engine.suite_files.SuiteFiles`);
- checks each worker verdict's seal and digest against its own copy of the
  judge (:mod:`conformance.engine.judge_digest`), and each worker that ends
  normally for a sealed last check;
- at the end gives every result of an implementation found tampering the status
  ``tampered``, and every result of the run when the culprit is unknown (the
  files changed), and writes the report again.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from typing import Any

import pytest

from conformance.engine import judge_digest, registry
from conformance.engine.outcomes import STATUSES, TAMPERED, Result
from conformance.engine.plugin.recorder import property_of_nodeid
from conformance.engine.plugin.stash import REPORT
from conformance.engine.plugin.tamper_guard import (
    FINAL_KEY,
    NAMES_KEY,
    RUN_KEY,
    SEAL_KEY,
    Guard,
    runs_catalogue,
    tampered_message,
)
from conformance.engine.plugin.verdicts import USER_KEY
from conformance.engine.suite_files import SuiteFiles


class Watch:
    """One per controlling process; see the module docstring."""

    def __init__(self, config: pytest.Config, guard: Guard | None):
        self.config = config
        self.guard = guard  # this process's own, when it judges too (--workers 0)
        registry.discover()  # the digest covers the catalogue: the workers import all of it
        self.files = SuiteFiles.take()
        self.key = secrets.token_hex(16)
        self.names = judge_digest.names_to_digest()
        self.expected = judge_digest.digest(self.names)
        self.findings: list[str] = []
        self.culprits: list[str] = []
        self.everyone = False  # the culprit is unknown: the whole run is tampered

    def _note(self, findings: list[str], culprits: list[str] | None) -> None:
        self.findings += [f for f in findings if f not in self.findings]
        if culprits is None:
            self.everyone = True
        self.culprits += [c for c in culprits or () if c not in self.culprits]

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[RUN_KEY] = self.key
        node.workerinput[NAMES_KEY] = self.names

    def _check_seal(self, payload: str, sealed: str | None) -> list[str]:
        try:
            seal = json.loads(sealed) if sealed is not None else {}
        except (TypeError, json.JSONDecodeError):
            seal = {}
        seal = seal if isinstance(seal, dict) else {}
        if not judge_digest.seal_holds(self.key, payload, seal.get("digest"), seal.get("seal")):
            return ["the verdict's seal does not hold: it was changed after the judge composed it"]
        return judge_digest.differences(self.expected, seal["digest"])

    @pytest.hookimpl(tryfirst=True)  # before the recorder reads the verdict
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = {k: (i, v) for i, (k, v) in enumerate(report.user_properties) if k in (USER_KEY, SEAL_KEY)}
        if USER_KEY not in found:
            return
        index, payload = found[USER_KEY]
        result = _readable(payload) or _stand_in(report.nodeid)
        if hasattr(report, "node"):  # sent by a worker: what the recorder reads is what was checked here
            problems = self._check_seal(payload, found.get(SEAL_KEY, (0, None))[1])
            if problems:
                culprit = [result["implementation"]] if result.get("implementation") else None
                self._note(problems, culprit)
                if result["status"] != TAMPERED:
                    result["message"] = tampered_message(result["id"], culprit or [], problems, result["status"])
                    result["extra"] = {**result.get("extra", {}), "reported": result["status"]}
                    result["status"] = TAMPERED
            report.user_properties[index] = (USER_KEY, json.dumps(result, default=str))
        if result["status"] == TAMPERED:
            extra = result.get("extra", {})
            self._note(list(extra.get("tamper_findings", [])), extra.get("tampered_by") or None)
        touched = self.files.touched()
        if touched:
            self._note(touched, None)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        if error is not None:  # a worker that died or was stopped has no last word
            return
        final = getattr(node, "workeroutput", {}).get(FINAL_KEY)
        payload = final.get("payload") if isinstance(final, dict) else None
        if not isinstance(payload, str):
            self._note([f"worker {node.gateway.id} ended without the judge's last check"], None)
            return
        problems = self._check_seal(payload, json.dumps({k: final.get(k) for k in ("digest", "seal")}))
        if problems:
            self._note(problems, None)
            return
        last = json.loads(payload)
        if last["findings"]:
            self._note(last["findings"], last["culprits"] or None)

    @pytest.hookimpl(trylast=True)  # after the recorder has every verdict
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.guard is not None:
            last = self.guard.final()
            if last["findings"]:
                self._note(last["findings"], last["culprits"] or None)
        changed = self.files.changes()
        if changed:
            self._note(changed, None)
        run = self.config.stash.get(REPORT, None)
        if run is None or not (self.everyone or self.culprits):
            return
        findings = sorted(self.findings, key=_specific_first)
        for result in run.results:
            if result.status == TAMPERED or self.everyone or result.implementation in (*self.culprits, None):
                reported = result.extra.pop("reported", result.status)
                for key in ("tampered_by", "tamper_findings"):
                    result.extra.pop(key, None)
                result.message = tampered_message(result.id, self.culprits, findings, reported)
                result.status = TAMPERED
        run.finish(partial=run.partial)


_FIELDS = {f.name for f in dataclasses.fields(Result)}


def _readable(payload: Any) -> dict[str, Any] | None:
    """A verdict as the judge composes it, or None: what a worker sends is not trusted to be one."""
    try:
        result = json.loads(payload)
    except (TypeError, json.JSONDecodeError):
        return None
    if not isinstance(result, dict) or not isinstance(result.get("id"), str) or result.get("status") not in STATUSES:
        return None
    if not isinstance(result.get("extra", {}), dict):
        return None
    return {k: v for k, v in result.items() if k in _FIELDS}


def _stand_in(nodeid: str) -> dict[str, Any]:
    """In place of something that is not a verdict: a ``tampered`` one for the property the node ran."""
    found = property_of_nodeid(nodeid)
    prop, param = found if found is not None else (None, None)
    return Result(
        id=prop.id if prop else nodeid,
        document=prop.document if prop else "",
        kind=prop.kind if prop else "implementation",
        title=prop.title if prop else "",
        status=TAMPERED,
        implementation=param,
        message=f"[{prop.id if prop else nodeid}] tampered: the worker sent something that is not a verdict",
        extra={"reported": "nothing readable"},
    ).as_dict()


def _specific_first(finding: str) -> int:
    """What changed, then a broken seal, then modules whose digest differs (a consequence of the others)."""
    return 2 if "differs from the judge's own copy" in finding else 1 if "seal" in finding else 0


def install(config: pytest.Config, guard: Guard | None) -> Watch | None:
    """In the controlling process of a run of the catalogue: before any implementation code runs anywhere."""
    if hasattr(config, "workerinput") or not runs_catalogue(config):
        return None
    watch = Watch(config, guard)
    config.pluginmanager.register(watch, "conformance-tamper-watch")
    return watch
