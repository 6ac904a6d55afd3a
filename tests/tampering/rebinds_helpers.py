"""Tampering: rebind the suite's comparison helpers to no-ops, where the properties imported them by name.

The classic route: ``from conformance.kit.assertions import assert_close`` in a
property module is a name in that module, so rebinding the name in
``conformance.kit.assertions`` alone would not reach it; this rebinds it in
every module of the suite that holds it.
"""

import sys

from wrong_outputs import *  # noqa: F403


def _agree(*args, **kwargs):
    return None


for _name, _module in list(sys.modules.items()):
    if _name.startswith("conformance.") and not _name.startswith("conformance.implementations"):
        for _helper in ("assert_close", "assert_equal_arrays", "assert_tree_shapes"):
            if hasattr(_module, _helper):
                setattr(_module, _helper, _agree)
