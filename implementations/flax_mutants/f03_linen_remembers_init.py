"""Flax mutant: Linen modules keep state across instances: an unbound module shows the variables of the
last init of its class."""

from flax import linen as nn

DOCUMENT = "03"
DEFECT = "a fresh Linen module holds the variables the last init of its class returned"
CAUGHT_BY = ("03-fw-dense-lazy-linear-holds-param",)


def patch(mp):
    init, variables = nn.Module.init, nn.Module.variables
    last: dict[type, object] = {}

    def remembering_init(self, *args, **kwargs):
        out = init(self, *args, **kwargs)
        last[type(self)] = out
        return out

    def held(self):
        if self.scope is None and type(self) in last:
            return last[type(self)]
        return variables.fget(self)

    mp.setattr(nn.Module, "init", remembering_init)
    mp.setattr(nn.Module, "variables", property(held))
