"""Tampering: rebind the comparison helpers, and blind the suite's own in-process tamper check first.

What is left to notice it is outside this process: the controlling process
compares each verdict's digest of the judge with its own copy.
"""

import conformance.engine.tamper

conformance.engine.tamper.Snapshot.changes = lambda self, **kwargs: []

from rebinds_helpers import *  # noqa: E402, F403
