"""Adapters that plug third-party models into the contract: thin, with no maths of their own.

Each needs its library installed (not a dependency of the suite), so nothing
here is imported by the discovery of variants and mutants; pass one with
``--impl conformance.implementations.third_party.<name>``.
"""
