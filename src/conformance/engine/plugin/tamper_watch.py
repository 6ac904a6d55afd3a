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
from pathlib import Path
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
        registry.discover(skip_broken=True)  # the digest covers the catalogue: the workers import all of it
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

    def _without_verdict(self, run: Any) -> list[tuple[registry.Property, str | None]]:
        """Selected properties that got no verdict, as a selection changed in the workers would leave them.

        Only for a run of the whole catalogue by the suite's own options (``conformance run``): pytest's
        own narrowing (a path, ``-k``) and the kill table's skipping are not known here.
        """
        config = self.config
        narrowed = config.getoption("keyword") or config.getoption("markexpr")
        skipping = config.getoption("skip_identical_to") or config.getoption("only_declared")
        whole = [Path(a).resolve() for a in config.args] == [registry.properties_dir().resolve()]
        if run.partial or narrowed or skipping or not whole:
            return []
        props = [
            p
            for p in registry.discover(skip_broken=True).values()
            if registry.selected(p, only=config.getoption("only"), kind=config.getoption("kind"))
        ]
        names = [i["name"] for i in run.implementations]
        have = {(r.id, r.implementation if r.kind == "implementation" else None) for r in run.results}
        return [
            (p, n) for p in props for n in (names if p.kind == "implementation" else [None]) if (p.id, n) not in have
        ]

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
        missing = self._without_verdict(run) if run is not None else []
        if missing:
            self._note([f"no verdict arrived for {len(missing)} selected properties: {_listed(missing)}"], None)
            for prop, name in missing:
                result = _stand_in_for(prop, name, "no verdict arrived for it")
                run.results.append(Result(**result))
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
    return _stand_in_for(prop, param, "the worker sent something that is not a verdict", nodeid)


def _stand_in_for(prop: registry.Property | None, name: str | None, why: str, nodeid: str = "") -> dict[str, Any]:
    return Result(
        id=prop.id if prop else nodeid,
        document=prop.document if prop else "",
        kind=prop.kind if prop else "implementation",
        title=prop.title if prop else "",
        status=TAMPERED,
        implementation=name,
        message=f"[{prop.id if prop else nodeid}] tampered: {why}",
        extra={"reported": "no verdict"},
    ).as_dict()


def _specific_first(finding: str) -> int:
    """What changed, then a broken seal, then modules whose digest differs (a consequence of the others)."""
    return 2 if "differs from the judge's own copy" in finding else 1 if "seal" in finding else 0


def _listed(missing: list[tuple[registry.Property, str | None]], shown: int = 6) -> str:
    names = [f"{prop.id} [{name}]" if name else prop.id for prop, name in missing]
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def install(config: pytest.Config, guard: Guard | None) -> Watch | None:
    """In the controlling process of a run of the catalogue: before any implementation code runs anywhere."""
    if hasattr(config, "workerinput") or not runs_catalogue(config):
        return None
    watch = Watch(config, guard)
    config.pluginmanager.register(watch, "conformance-tamper-watch")
    return watch
