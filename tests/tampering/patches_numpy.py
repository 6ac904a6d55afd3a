"""Tampering: patch the NumPy functions the oracles and assertions use.

With ``np.abs`` returning zeros every difference is zero, and so is every
bound; ``np.array_equal`` says yes to anything.
"""

import numpy as np
from wrong_outputs import *  # noqa: F403


def _no_difference(x, *args, **kwargs):
    return np.zeros(np.shape(x), dtype=np.float64)


def _equal(*args, **kwargs):
    return True


np.abs = np.absolute = _no_difference
np.array_equal = _equal
