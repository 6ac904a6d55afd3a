"""flax-sharing-conformance: property-based conformance checks for parameter sharing in Flax.

The harness, in three layers:

- :mod:`conformance.kit`: what properties use (strategies, oracles, tolerances,
  assertions, compiled calls, FLOP counting, tree paths);
- :mod:`conformance.engine`: loading implementations, the registry
  (:func:`conformance.engine.registry.conformance_property`), the pytest plugin, verdicts,
  reports and the runner;
- :mod:`conformance.commands`: the ``conformance`` command and its subcommands.

The properties themselves live in the ``properties`` package, one subpackage per document.
"""

__version__ = "0.1.0"
