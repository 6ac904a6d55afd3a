"""Tampering: edit the suite's files on disk, so that the judge imports no-op helpers (in this run's later
workers, and in every run after it).

It only ever edits the copy of the suite that tests/test_tampering.py makes
and names in $CONFORMANCE_TAMPERING_COPY; anywhere else it refuses, at import.
"""

import os
from pathlib import Path

from wrong_outputs import *  # noqa: F403

import conformance.kit.assertions

_copy = os.environ.get("CONFORMANCE_TAMPERING_COPY")
_target = Path(conformance.kit.assertions.__file__).resolve()
if not _copy or not _target.is_relative_to(Path(_copy).resolve()):
    raise RuntimeError(f"refusing to edit {_target}: this fault only edits the copy in $CONFORMANCE_TAMPERING_COPY")
_target.write_text(_target.read_text() + "\n\ndef assert_close(*args, **kwargs):\n    return None\n")
