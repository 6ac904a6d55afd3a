"""Flax mutant: nnx.Linear sums x_i * kernel_ij in reverse order (the same product, other roundings)."""

from flax import nnx

DOCUMENT = "03"
DEFECT = "nnx.Linear accumulates the dot product in reverse order"
CAUGHT_BY = ("03-fw-linen-equals-nnx-exactly",)


def patch(mp):
    def call(self, x):
        y = x[..., ::-1] @ self.kernel[...][::-1]
        return y if self.bias is None else y + self.bias[...]

    mp.setattr(nnx.Linear, "__call__", call)
