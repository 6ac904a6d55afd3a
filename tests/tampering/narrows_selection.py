"""Tampering: leave out the properties it fails, by changing pytest's options before the properties are collected.

``--only`` is read again when the properties are selected, after the implementation is imported;
narrowed to one framework property (one that tests/test_tampering.py selects), nothing of its own is
left to fail.
"""

import gc

import pytest
from wrong_outputs import *  # noqa: F403

for _config in [o for o in gc.get_objects() if isinstance(o, pytest.Config)]:
    _config.option.only = ["01-fw-inline-dense-not-shared"]
