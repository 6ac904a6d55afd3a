"""A user's wrong solution: multi_param_forward returns x @ kernel * 0, everything else conforming."""

from conformance.implementations.reference import *  # noqa: F403
from conformance.implementations.reference import multi_param_forward as _right


def multi_param_forward(seed, x, features):
    return _right(seed, x, features) * 0
