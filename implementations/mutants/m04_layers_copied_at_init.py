"""Mutant: every unshared layer starts as a copy of the first.

Document 04, section 2: without sharing, each layer is its own block, drawn at
init like any other. Here init draws layers_0 and copies it into every layer:
the model has L blocks' parameters and trains them apart, but they start equal,
which a fresh key per layer would never give.
"""

from __future__ import annotations

from conformance.implementations.transformer import SharedTransformer, TransformerBlock
from conformance.implementations.transformer import UnsharedTransformer as _Reference

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "UnsharedTransformer.init copies layers_0's parameters into every layer"
CAUGHT_BY = ("04-layers-drawn-apart-at-init",)


class UnsharedTransformer(_Reference):
    def init(self, *args, **kwargs):
        variables = super().init(*args, **kwargs)
        params = dict(variables["params"])
        for i in range(1, self.num_layers):
            params[f"layers_{i}"] = params["layers_0"]  # defect
        return {**variables, "params": params}
