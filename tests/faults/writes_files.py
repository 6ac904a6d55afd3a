"""Fault: writes files when imported, into its working directory and the temporary directory.

Where it wrote is appended, as one JSON line, to the file named by
$CONFORMANCE_TEST_WRITES_LOG, so that a test can check that each implementation
of a run wrote into a folder of its own, gone once the run ended.
"""

import json
import os
import tempfile
from pathlib import Path

from conformance.implementations.reference import multi_param_forward  # noqa: F401

Path("left_behind.txt").write_text("written by tests/faults/writes_files.py\n")
with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
    fh.write("written by tests/faults/writes_files.py\n")
_log = os.environ.get("CONFORMANCE_TEST_WRITES_LOG")
if _log:
    with open(_log, "a") as out:
        out.write(json.dumps({"pid": os.getpid(), "cwd": os.getcwd(), "tmp": tempfile.gettempdir()}) + "\n")
