"""Wrong for odd seeds (the kernel is doubled), and slow: every call sleeps, so shrinking runs out of time."""

import time

from conformance.implementations.reference import *  # noqa: F403
from conformance.implementations.reference import multi_param_forward as _right


def multi_param_forward(seed, x, features):
    time.sleep(0.25)
    out = _right(seed, x, features)
    return out * 2 if int(seed) % 2 else out
