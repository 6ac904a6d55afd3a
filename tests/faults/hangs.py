"""Fault: the forward function never returns."""

import time


def multi_param_forward(seed, x, features):
    while True:
        time.sleep(0.05)
