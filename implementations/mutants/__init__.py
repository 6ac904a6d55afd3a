"""Deliberately wrong implementations, one defect each.

Every module states ``DOCUMENT``, ``DEFECT`` (one line) and ``CAUGHT_BY`` (the
property ids that must reject it), and exports only the contract names it
breaks, so the rest of the catalogue reports them ``not_provided``.
"""
