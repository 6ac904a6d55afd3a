"""Fault: changes process-wide state when imported, as careless code does, and passes itself.

- ``jax_enable_x64``: JAX's default dtype becomes 64-bit, so a conforming MultiParam's bias,
  built with ``jnp.zeros``, turns float64 in any process that imported this;
- ``jax.numpy.ones`` returns zeros: a bias of ones (``m05_bias_ones``'s defect) becomes the
  zeros the document asks for.

Run in one process with other implementations, it fails a conforming one and passes a wrong
one; each in processes of its own, it changes nothing but itself (tests/test_many.py).
"""

import jax
import jax.numpy as jnp
from conformance.implementations.reference import multi_param_forward  # noqa: F401

jax.config.update("jax_enable_x64", True)
jnp.ones = jnp.zeros
