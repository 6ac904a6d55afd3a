"""Flax mutant: nnx.Linear has no bias unless asked for one."""

import functools

from flax import nnx

DOCUMENT = "03"
DEFECT = "nnx.Linear defaults to use_bias=False"
CAUGHT_BY = ("03-fw-use-bias-default-true",)


def patch(mp):
    init = nnx.Linear.__init__

    @functools.wraps(init)
    def no_bias_init(self, *args, use_bias=False, **kwargs):
        init(self, *args, use_bias=use_bias, **kwargs)

    mp.setattr(nnx.Linear, "__init__", no_bias_init)
