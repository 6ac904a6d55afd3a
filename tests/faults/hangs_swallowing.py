"""Fault: hangs and swallows every Exception it sees (the timeout must still stop it)."""

import time


def multi_param_forward(seed, x, features):
    while True:
        try:
            time.sleep(0.05)
        except Exception:
            pass
