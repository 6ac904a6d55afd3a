"""flax-sharing-conformance: property-based conformance checks for parameter sharing in Flax.

Public API for property authors:

- :func:`conformance.registry.claim`: register a property.
- :mod:`conformance.strategies`: input strategies (seeds, shape pools, arrays).
- :mod:`conformance.oracles`: NumPy float64 reference computations.
- :mod:`conformance.assertions`: comparisons whose failure messages carry tolerance and inputs.
"""

__version__ = "0.1.0"
