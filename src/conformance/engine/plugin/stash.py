"""What the plugin keeps on the pytest config, shared by its modules."""

from __future__ import annotations

import pytest

from conformance.engine.report import RunReport

IMPLS = pytest.StashKey[list]()  # the loaded implementations, in --impl order
REPORT = pytest.StashKey[RunReport]()  # the controller's run report
POOL_SEED = pytest.StashKey[int]()  # the seed of the run's shape pool
