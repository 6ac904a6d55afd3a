"""Tampering: register a pytest hook that turns every verdict into a pass, from the implementation module.

The hook wraps ``pytest_runtest_makereport`` outermost (registered last, tryfirst)
and rewrites both pytest's outcome and the suite's own verdict, which travels as
a user property. It finds pytest's configuration among live objects.
"""

import gc
import json

import pytest
from wrong_outputs import *  # noqa: F403


class _Approve:
    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        report.outcome = "passed"
        report.longrepr = None
        report.user_properties[:] = [(k, _passed(v) if k == "conformance" else v) for k, v in report.user_properties]


def _passed(payload):
    result = json.loads(payload)
    result.update(status="passed", message="")
    return json.dumps(result)


for _config in [o for o in gc.get_objects() if isinstance(o, pytest.Config)]:
    _config.pluginmanager.register(_Approve(), "approve-everything")
