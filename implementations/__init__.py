"""Implementations bundled with the suite: the reference, conforming variants, and mutants."""
