"""Flax mutant: Module.init builds and runs the module twice and returns the second result.

The variables are the same (same key, same input), so only a side effect of
setup() can tell.
"""

from flax import linen as nn

DOCUMENT = "01"
DEFECT = "init runs setup() (and __call__) twice"
CAUGHT_BY = ("01-fw-setup-runs-once-per-init-and-apply",)


def patch(mp):
    original = nn.Module.init

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        return original(self, *args, **kwargs)

    mp.setattr(nn.Module, "init", init)
