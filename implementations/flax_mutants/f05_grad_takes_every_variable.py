"""Flax mutant: nnx.grad's default filter takes every Variable, not only the Params."""

import functools

from flax import nnx

DOCUMENT = "05"
DEFECT = "nnx.grad differentiates plain Variables by default"
CAUGHT_BY = ("05-fw-grad-default-is-params",)


def patch(mp):
    grad = nnx.grad

    @functools.wraps(grad)
    def every_variable(*args, argnums=0, **kwargs):
        if argnums == 0:
            argnums = nnx.DiffState(0, nnx.Variable)
        return grad(*args, argnums=argnums, **kwargs)

    mp.setattr(nnx, "grad", every_variable)
