"""Flax mutant: nnx.update writes back only the Params of the state it is given."""

from flax import nnx

DOCUMENT = "05"
DEFECT = "nnx.update ignores non-Param Variables"
CAUGHT_BY = ("05-fw-variables-survive-checkpoint",)


def patch(mp):
    update = nnx.update

    def params_only(node, state, *states):
        return update(node, *(s.filter(nnx.Param) for s in (state, *states)))

    mp.setattr(nnx, "update", params_only)
