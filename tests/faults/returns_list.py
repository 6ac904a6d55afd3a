"""Fault: returns a Python list instead of an array."""


def multi_param_forward(seed, x, features):
    return [0.0] * int(features)
