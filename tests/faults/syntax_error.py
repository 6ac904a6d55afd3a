"""Fault: does not parse."""


def multi_param_forward(seed, x, features)
    return x
