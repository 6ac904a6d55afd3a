"""Conforming implementations that take other code paths the documents allow.

No property may reject any of them.
"""
