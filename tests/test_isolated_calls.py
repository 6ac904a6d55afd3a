"""--isolate-calls: an implementation's forward functions called in its own process, with the usual verdicts.

tests/test_tampering.py runs the mode through `conformance run`; here the calls process is driven directly,
with a small implementation that has one fault per forward function.
"""

from __future__ import annotations

import signal

import numpy as np
import pytest

from conformance.engine.isolated_calls import isolate
from conformance.engine.loading import ImplementationRaised, LoadError
from conformance.engine.outcomes import ImplementationDied, PropertyTimeout

FAULTY = """
import os, time
import numpy as np

class MultiParam:  # a module export: not called out of process
    pass

def shared_dense_forward(seed, x, hidden):
    raise RuntimeError("deliberate failure")

def nn_vmap_forward(seed, x_batch, features):
    os._exit(3)

def shared_params_two_modules(seed, x, features):
    return [float(v) for v in x]

def multi_param_forward(seed, x, features):
    if features == 0:
        time.sleep(60)
    print("implementations may print; the protocol is not disturbed")
    return np.asarray(x, np.float32) * seed
"""


@pytest.fixture
def faulty(tmp_path):
    path = tmp_path / "faulty.py"
    path.write_text(FAULTY)
    impl = isolate(str(path))
    yield impl
    impl.process.stop()


def test_arrays_come_back_as_arrays_and_other_values_as_themselves(faulty):
    out = faulty.call("multi_param_forward", 3, np.ones(4, np.float32), 2)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.tolist() == [3.0] * 4, out
    assert faulty.call("shared_params_two_modules", 0, np.arange(2.0), 2) == [0.0, 1.0]
    assert faulty.provided() == [
        "shared_dense_forward",
        "nn_vmap_forward",
        "shared_params_two_modules",
        "multi_param_forward",
    ]
    assert not faulty.provides("MultiParam") and "calls only forward functions" in faulty.why_missing("MultiParam")


def test_an_exception_keeps_its_type_and_message(faulty):
    with pytest.raises(ImplementationRaised, match="shared_dense_forward raised RuntimeError: deliberate failure"):
        faulty.call("shared_dense_forward", 0, np.ones((1, 1), np.float32), 1)


def test_a_process_that_dies_is_a_crash_and_the_next_call_starts_another(faulty):
    with pytest.raises(ImplementationDied, match="exit code 3"):
        faulty.call("nn_vmap_forward", 0, np.ones((1, 1), np.float32), 1)
    assert faulty.call("multi_param_forward", 1, np.ones(1, np.float32), 1).tolist() == [1.0]


def test_a_call_stopped_midway_ends_the_process(faulty):
    def stop(signum, frame):
        raise PropertyTimeout("--timeout")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 3.0)  # as --timeout does
    try:
        with pytest.raises(PropertyTimeout):
            faulty.call("multi_param_forward", 1, np.ones(1, np.float32), 0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert faulty.process.proc is None, "the process was left running a call nobody waits for"
    assert faulty.call("multi_param_forward", 2, np.ones(1, np.float32), 1).tolist() == [2.0]


def test_a_module_that_does_not_import_is_one_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import no_such_dependency\n")
    with pytest.raises(LoadError, match=r"broken.py:1: ModuleNotFoundError"):
        isolate(str(path))
