"""Mutant: the forward pass increments count.

Violates document 05, 'This problem (no mutation yet)': do not touch count.
"""

from conformance.implementations.mutants._multi_param import forward_with
from conformance.implementations.reference import MultiParam as _Reference

DOCUMENT = "05"
DEFECT = "count incremented in __call__"
CAUGHT_BY = ("05-call-leaves-count-alone",)


class MultiParam(_Reference):
    def __call__(self, x):
        self.count[...] = self.count[...] + 1
        return super().__call__(x)


def multi_param_forward(seed, x, features):
    return forward_with(MultiParam, seed, x, features)
