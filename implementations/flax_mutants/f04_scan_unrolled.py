"""Flax mutant: nn.scan unrolls its whole loop by default."""

from flax import linen as nn

DOCUMENT = "04"
DEFECT = "nn.scan defaults to unroll=True (no while loop left to count once)"
CAUGHT_BY = ("04-fw-scan-body-counted-once",)


def patch(mp):
    original = nn.scan

    def scan(target, *args, **kwargs):
        return original(target, *args, **{"unroll": True, **kwargs})

    mp.setattr(nn, "scan", scan)
