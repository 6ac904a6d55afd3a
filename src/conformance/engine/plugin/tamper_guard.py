"""In each process that judges: notice implementation code changing the judge, and seal every verdict.

The catalogue is imported first, then the judge's state is taken
(:class:`conformance.engine.tamper.Snapshot`), with what pytest and Hypothesis
hold beside it: the plugin manager's hooks, the loaded Hypothesis profile, the
trace and profile functions, the import system. It is checked after each
implementation's import, after every property (the core of the judge: the
suite, NumPy, JAX, Flax, Hypothesis, pytest) and, in full, at the end. Once
anything changed, every verdict this process sends is ``tampered``, naming
what changed; the controlling process extends that to the whole run of the
implementation (:mod:`.tamper_watch`).

In an xdist worker every verdict also carries the digest of the judge and a
seal (:mod:`conformance.engine.judge_digest`) that the controlling process,
which never imports the implementation, checks against its own copy.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from conformance.engine import judge_digest, registry
from conformance.engine.outcomes import TAMPERED
from conformance.engine.plugin.scheduling import impl_of
from conformance.engine.plugin.verdicts import USER_KEY
from conformance.engine.tamper import Snapshot, origin

SEAL_KEY = "conformance-seal"  # the user property that carries a verdict's seal
FINAL_KEY = "conformance_tamper"  # the worker's last word, in xdist's workeroutput
RUN_KEY = "conformance_tamper_key"  # workerinput: the run's HMAC key
NAMES_KEY = "conformance_digest_names"  # workerinput: what the digest covers
SHOWN = 8  # changes listed in a verdict's message
# Packages whose hook implementations may be registered after the judge's state was taken.
HOOK_PACKAGES = frozenset({"_pytest", "pytest", "xdist", "pluggy", "hypothesis", "conformance"})


def runs_catalogue(config: pytest.Config) -> bool:
    """Whether this session runs the catalogue (the suite's own tests load the plugin too, and are not judged)."""
    root = registry.properties_dir().resolve()
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == root or path.is_relative_to(root):
            return True
    return False


def tampered_message(prop_id: str, culprits: list[str], findings: list[str], reported: str) -> str:
    shown = "\n".join(f"  - {line}" for line in findings[:SHOWN])
    more = f"\n  ... and {len(findings) - SHOWN} more" if len(findings) > SHOWN else ""
    what = f"code loaded with {', '.join(culprits)} changed the judge" if culprits else "the judge changed"
    return (
        f"[{prop_id}] tampered: {what} during the run; none of its verdicts can be trusted "
        f"(the property itself reported {reported}):\n{shown}{more}"
    )


class Guard:
    """One per judging process; see the module docstring."""

    def __init__(self, config: pytest.Config):
        self.config = config
        worker = getattr(config, "workerinput", {})
        self.key: str | None = worker.get(RUN_KEY)
        self.names: dict[str, list[str]] | None = worker.get(NAMES_KEY)
        self.judge_modules: frozenset[str] = frozenset()
        self.snapshot: Snapshot | None = None
        self.baseline_hooks: dict[int, str] = {}
        self.loaded: list[str] = []
        self.findings: list[str] = []
        self.culprits: list[str] = []

    # --- the judge's state ---------------------------------------------------------------------

    def before_import(self) -> None:
        """Import the catalogue (it is the judge) and take the judge's state, before any implementation runs."""
        registry.discover(skip_broken=True)  # a module that does not import here is a collection error, as before
        self.judge_modules = frozenset(sys.modules)
        self.baseline_hooks = self._hookimpls()
        self.snapshot = Snapshot.take(probes=self._probes())

    def after_import(self, name: str) -> None:
        self.loaded.append(name)
        if self._check(name, everything=True) and self.snapshot is not None:
            # Take the state again, so that the next implementation's import is judged on its own.
            self.snapshot = Snapshot.take(probes=self._probes(), exclude=set(sys.modules) - self.judge_modules)

    def _check(self, culprit: str | None, *, everything: bool) -> bool:
        if self.snapshot is None:
            return False
        changes = self.snapshot.changes(everything=everything)
        new = [c for c in changes if c not in self.findings]
        if new:
            self.findings += new
            for who in [culprit] if culprit else self.loaded:
                if who not in self.culprits:
                    self.culprits.append(who)
        return bool(new)

    def _probes(self) -> dict[str, Any]:
        from hypothesis import settings

        return {
            "pytest's hooks (added from outside the judge, or removed)": self._foreign_hooks,
            "Hypothesis' loaded profile": lambda: (settings.get_current_profile_name(), settings.default),
            # which properties run, their timeout, the profile: read again at collection, after the import
            "pytest's options": lambda: repr(sorted(vars(self.config.option).items())),
            "the trace and profile functions": lambda: (
                sys.gettrace(),
                sys.getprofile(),
                threading.gettrace(),
                threading.getprofile(),
            ),
            "the import system": lambda: (tuple(sys.meta_path), tuple(sys.path_hooks)),
        }

    def _hookimpls(self) -> dict[int, str]:
        pm = self.config.pluginmanager
        return {
            id(impl.function): f"{caller.name} from {origin(impl.function)}"
            for caller in vars(pm.hook).values()
            if hasattr(caller, "get_hookimpls")
            for impl in caller.get_hookimpls()
        }

    def _foreign_hooks(self) -> tuple[str, ...]:
        """Hook implementations whose code is not the judge's, and the judge's that are gone."""
        now = self._hookimpls()
        pm = self.config.pluginmanager
        foreign = []
        for caller in vars(pm.hook).values():
            for impl in caller.get_hookimpls() if hasattr(caller, "get_hookimpls") else ():
                if not self._judges_own(impl.function):
                    foreign.append(f"{caller.name} added from {origin(impl.function)}")
        gone = [f"{what} was removed" for i, what in self.baseline_hooks.items() if i not in now]
        return tuple(sorted(foreign + gone))

    def _judges_own(self, function: Any) -> bool:
        """Code of a module the judge had loaded, or of pytest and its plugins (they import parts later)."""
        module_name = getattr(function, "__module__", None) or ""
        module = sys.modules.get(module_name)
        if module is None:
            return False
        if module_name not in self.judge_modules and module_name.split(".")[0] not in HOOK_PACKAGES:
            return False
        code = getattr(function, "__code__", None)
        source = getattr(module, "__file__", None)
        return code is None or not source or code.co_filename == source

    # --- the verdicts --------------------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)  # outermost: after the verdict is composed
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        index = next((i for i, (k, _) in enumerate(report.user_properties) if k == USER_KEY), None)
        if index is None:
            return
        impl = impl_of(item)
        self._check(impl.name if impl is not None else None, everything=False)
        payload = report.user_properties[index][1]
        if self.findings:
            payload = self._mark(report, json.loads(payload))
            report.user_properties[index] = (USER_KEY, payload)
        if self.key is not None and self.names is not None:
            digest = judge_digest.digest(self.names)
            seal = judge_digest.seal(self.key, payload, digest)
            report.user_properties.append((SEAL_KEY, json.dumps({"digest": digest, "seal": seal})))

    def _mark(self, report: pytest.TestReport, result: dict[str, Any]) -> str:
        if result["status"] != TAMPERED:
            result["message"] = tampered_message(result["id"], self.culprits, self.findings, result["status"])
            extra = {"reported": result["status"], "tampered_by": self.culprits, "tamper_findings": self.findings}
            result["extra"] = {**result.get("extra", {}), **extra}
            result["status"] = TAMPERED
        report.outcome = "failed"
        report.longrepr = result["message"]
        return json.dumps(result, default=str)

    def final(self) -> dict[str, Any]:
        """The whole judge checked once more, at the end of the session."""
        self._check(None, everything=True)
        return {"findings": self.findings, "culprits": self.culprits, "loaded": self.loaded}

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        output = getattr(self.config, "workeroutput", None)
        if output is None or self.key is None or self.names is None:
            return
        payload = json.dumps(self.final(), sort_keys=True)
        digest = judge_digest.digest(self.names)
        output[FINAL_KEY] = {"payload": payload, "digest": digest, "seal": judge_digest.seal(self.key, payload, digest)}


def install(config: pytest.Config) -> Guard | None:
    """Start guarding this process, if it runs the catalogue; call before any implementation is imported."""
    if not runs_catalogue(config):
        return None
    guard = Guard(config)
    config.pluginmanager.register(guard, "conformance-tamper-guard")
    guard.before_import()
    return guard
