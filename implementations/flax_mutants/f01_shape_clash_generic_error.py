"""Flax mutant: a param requested again with another shape raises a plain ValueError."""

from flax import errors
from flax.core import scope

DOCUMENT = "01"
DEFECT = "shape clash reported as ValueError, not ScopeParamShapeError"
CAUGHT_BY = ("01-fw-mismatched-width-fails-at-init",)


def patch(mp):
    original = scope.Scope.param

    def param(self, *args, **kwargs):
        try:
            return original(self, *args, **kwargs)
        except errors.ScopeParamShapeError as exc:
            raise ValueError(str(exc)) from None

    mp.setattr(scope.Scope, "param", param)
