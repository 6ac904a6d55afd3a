"""Fault: conforming, except that shared_params_two_modules kills its process (document 03, mid-group)."""

import os

from conformance.implementations.reference import *  # noqa: F403


def shared_params_two_modules(seed, x, features):
    os._exit(3)
