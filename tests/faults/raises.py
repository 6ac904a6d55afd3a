"""Fault: the forward function raises."""


def multi_param_forward(seed, x, features):
    raise RuntimeError("deliberate failure inside the implementation")
