"""The property catalogue, one package per document.

Each ``docNN_*`` package holds document NN's section names, constructions,
oracles and strategies, and its properties in ``test_*.py`` modules, as
Hypothesis tests registered with :func:`conformance.engine.registry.conformance_property`.
"""
