"""Flax mutant: a child scope's RNG streams are folded with its class prefix, not its full name.

Dense_0 and Dense_1 then draw the same init keys: two inline layers start from
one kernel. Param names and shapes are unchanged.
"""

import re

from flax.core import scope

DOCUMENT = "01"
DEFECT = "sibling submodules of one class (Dense_0, Dense_1) share their init keys"
CAUGHT_BY = ("01-fw-inline-dense-fresh-params",)


def patch(mp):
    original = scope.Scope.push

    def push(self, name=None, prefix="", reuse=False):
        child = original(self, name, prefix, reuse)
        stem = re.sub(r"_\d+$", "", child.name)
        child.rngs = {key: scope.LazyRng.create(rng, stem) for key, rng in self.rngs.items()}
        return child

    mp.setattr(scope.Scope, "push", push)
