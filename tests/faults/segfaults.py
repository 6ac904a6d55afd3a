"""Fault: crashes the interpreter with a segmentation fault."""

import ctypes


def multi_param_forward(seed, x, features):
    ctypes.string_at(0)
