"""Flax mutant: nnx.Linear stores its kernel as (out, in), as PyTorch does."""

from flax import nnx

DOCUMENT = "03"
DEFECT = "nnx.Linear kernel laid out (out, in)"
CAUGHT_BY = ("03-fw-kernels-are-in-by-out",)


def patch(mp):
    class Linear(nnx.Linear):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.kernel = nnx.Param(self.kernel[...].T)

        def __call__(self, x):
            return x @ self.kernel[...].T + (0 if self.bias is None else self.bias[...])

    mp.setattr(nnx, "Linear", Linear)
