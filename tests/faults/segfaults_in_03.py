"""Fault: conforming, except that shared_params_two_modules segfaults (document 03, mid-group)."""

import ctypes

from conformance.implementations.reference import *  # noqa: F403


def shared_params_two_modules(seed, x, features):
    ctypes.string_at(0)
