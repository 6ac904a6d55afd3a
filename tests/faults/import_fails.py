"""Fault: raises while being imported."""

raise ImportError("a dependency of this implementation is missing")
