"""The pytest plugin: plugs an implementation into the property tests and records verdicts.

Registered through the ``pytest11`` entry point, so ``pytest --impl TARGET
properties/`` works as well as ``conformance run``. It is inert for test
modules that hold no registered property. One module per concern:

- :mod:`.options`: the command-line options;
- :mod:`.collection`: the catalogue's modules under their package names;
- :mod:`.configure`: profile, Flax mutant, compilation cache, implementations;
- :mod:`.selection` and :mod:`.scheduling`: which properties run, on which worker, and crashes;
- :mod:`.timeouts`: ``--timeout`` inside the worker; :mod:`.deadline`: a bound on the whole run;
- :mod:`.memory_limit`: each worker's memory limit, and out of memory as a crash;
- :mod:`.verdicts` and :mod:`.replay`: outcomes to verdicts and messages, ``--example``;
- :mod:`.recorder`: the controller's report;
- :mod:`.compile_counter`: compilations per test, for the benchmark.

pytest registers the hooks it finds on this module, so each is imported here.
"""

from conformance.engine.plugin.collection import pytest_collect_directory, pytest_pycollect_makemodule
from conformance.engine.plugin.compile_counter import COMPILE_COUNT_ENV, pytest_sessionstart
from conformance.engine.plugin.configure import (
    pytest_configure,
    pytest_configure_node,
    pytest_generate_tests,
    pytest_unconfigure,
)
from conformance.engine.plugin.memory_limit import pytest_runtest_protocol
from conformance.engine.plugin.options import pytest_addoption
from conformance.engine.plugin.replay import pytest_pyfunc_call
from conformance.engine.plugin.scheduling import pytest_xdist_make_scheduler, xdist_args
from conformance.engine.plugin.selection import pytest_collection_modifyitems
from conformance.engine.plugin.timeouts import pytest_runtest_call
from conformance.engine.plugin.verdicts import compose_message, pytest_runtest_makereport, pytest_runtest_setup

__all__ = [
    "COMPILE_COUNT_ENV",
    "compose_message",
    "pytest_addoption",
    "pytest_collect_directory",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_configure_node",
    "pytest_generate_tests",
    "pytest_pycollect_makemodule",
    "pytest_pyfunc_call",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_runtest_protocol",
    "pytest_runtest_setup",
    "pytest_sessionstart",
    "pytest_unconfigure",
    "pytest_xdist_make_scheduler",
    "xdist_args",
]
