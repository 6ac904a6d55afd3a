"""Fault: conforming, except that multi_param_forward allocates without bound (and keeps it)."""

from conformance.implementations.reference import *  # noqa: F403

_hoard = []


def multi_param_forward(seed, x, features):
    while True:
        _hoard.append(bytearray(1 << 20))
