"""Fault: switches on 64-bit mode at import, which changes every computation after it."""

import jax

jax.config.update("jax_enable_x64", True)

from conformance.implementations.reference import multi_param_forward  # noqa: E402,F401
