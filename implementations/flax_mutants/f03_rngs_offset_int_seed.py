"""Flax mutant: nnx.Rngs(int) seeds its streams with PRNGKey(seed + 1)."""

from flax import nnx

DOCUMENT = "03"
DEFECT = "nnx.Rngs(seed) differs from nnx.Rngs(PRNGKey(seed))"
CAUGHT_BY = ("03-fw-rngs-int-seed-is-prngkey",)


def patch(mp):
    original = nnx.Rngs.__init__

    def init(self, *args, **kwargs):
        original(self, *(a + 1 if isinstance(a, int) else a for a in args), **kwargs)

    mp.setattr(nnx.Rngs, "__init__", init)
