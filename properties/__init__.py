"""The property catalogue, one module per document.

Each ``test_NN_*.py`` module holds the claims of document NN as Hypothesis
tests registered with :func:`conformance.registry.claim`.
"""
