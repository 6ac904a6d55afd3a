"""``--emulate-precision``: run float32 matmuls as a reduced-precision accelerator would, on CPU.

TF32 and bfloat16 matmuls round their operands to a shorter mantissa and
accumulate in float32. Rounding both operands of every ``lax.dot_general`` with
``lax.reduce_precision`` reproduces that on CPU, so the tolerance model for a
GPU or a TPU can be checked on a machine that has neither.

The rounding belongs to the matmul, not to the program: hardware rounds the
operands inside the product and never a gradient flowing back. So it passes
tangents through unchanged (``reduce_precision``'s own derivative would round
every cotangent to the short mantissa as well); the backward pass's matmuls go
through ``dot_general`` and round their own operands.
"""

from __future__ import annotations

import pytest

from conformance.kit.precision import PRECISIONS


def emulate(mp: pytest.MonkeyPatch, name: str) -> None:
    """Make every float32 dot product in this process round its operands to ``name``'s mantissa."""
    import jax
    import jax.numpy as jnp
    from jax._src.lax import lax as lax_internal

    bits = PRECISIONS[name].mantissa_bits
    original = lax_internal.dot_general

    @jax.custom_jvp
    def round_operand(x):
        return jax.lax.reduce_precision(x, exponent_bits=8, mantissa_bits=bits)

    round_operand.defjvp(lambda primals, tangents: (round_operand(*primals), tangents[0]))

    def rounded(x):
        return round_operand(x) if x.dtype == jnp.float32 else x

    def dot_general(lhs, rhs, *args, **kwargs):
        return original(rounded(jnp.asarray(lhs)), rounded(jnp.asarray(rhs)), *args, **kwargs)

    # jnp.matmul, einsum and Flax's layers all reach lax.dot_general through one of these names.
    mp.setattr(lax_internal, "dot_general", dot_general)
    mp.setattr(jax.lax, "dot_general", dot_general)
