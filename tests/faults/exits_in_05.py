"""Fault: conforming, except that multi_param_forward kills its process (document 05, mid-group)."""

import os

from conformance.implementations.reference import *  # noqa: F403


def multi_param_forward(seed, x, features):
    os._exit(3)
