"""The effective precision of float32 matrix products, which every numeric tolerance depends on.

JAX computes a float32 dot product exactly in float32 on CPU, but by default
rounds its operands to TensorFloat-32 (10-bit mantissa) on recent NVIDIA GPUs
and to bfloat16 (7-bit mantissa) on TPUs. A product whose operands were
rounded to unit roundoff ``u_op`` and then accumulated in float32 is off by at
most ``(gamma_k + 2 u_op) |x||W|`` (first order): :func:`dot_gamma` is that
factor. The run's precision is detected from the backend (or stated with
``--precision``) and recorded in the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MatmulPrecision:
    name: str
    mantissa_bits: int  # explicit mantissa bits the operands keep
    where: str

    @property
    def operand_roundoff(self) -> float:
        """Unit roundoff of the operands' format (0 when they stay float32)."""
        return 0.0 if self.mantissa_bits >= 23 else 2.0 ** -(self.mantissa_bits + 1)


PRECISIONS = {
    "float32": MatmulPrecision("float32", 23, "CPU, or jax_default_matmul_precision='highest'"),
    "tf32": MatmulPrecision("tf32", 10, "NVIDIA GPUs from Ampere on, JAX's default precision"),
    "bfloat16": MatmulPrecision("bfloat16", 7, "TPU, JAX's default precision"),
}

_current = PRECISIONS["float32"]


def use_precision(name: str) -> MatmulPrecision:
    global _current
    _current = PRECISIONS[name]
    return _current


def current_precision() -> MatmulPrecision:
    return _current


def unit_roundoff(dtype: object = np.float32) -> float:
    """Half the distance from 1 to the next float of ``dtype``: 2**-24 for float32."""
    return float(np.finfo(np.dtype(dtype)).eps) / 2.0


def dot_gamma(k: int) -> float:
    """Relative error factor of a length-k float32 dot product at the run's matmul precision."""
    u = unit_roundoff()
    return k * u / (1.0 - k * u) + 2.0 * _current.operand_roundoff


def describe() -> str:
    p = _current
    return f"matmul operands {p.name}" + (f" (u_op=2^-{p.mantissa_bits + 1})" if p.operand_roundoff else " (exact)")


def backend() -> str:
    import jax

    return jax.default_backend()


def detect() -> str:
    """The precision JAX uses for float32 matmuls here by default."""
    import jax

    configured = str(jax.config.jax_default_matmul_precision or "default").lower()
    if configured in ("highest", "float32"):
        return "float32"
    if configured in ("tensorfloat32", "high"):
        return "tf32"
    if configured in ("bfloat16",):
        return "bfloat16"
    backend = jax.default_backend()
    if backend == "tpu":
        return "bfloat16"
    if backend in ("gpu", "cuda"):
        capability = getattr(jax.devices()[0], "compute_capability", "0")
        return "tf32" if float(capability or 0) >= 8.0 else "float32"
    return "float32"
