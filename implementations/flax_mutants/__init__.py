"""Deliberately wrong Flax releases, one changed behaviour each: the proof of the framework properties.

A framework property checks the installed Flax, so the wrong "implementation"
that proves it can fail is a Flax that behaves otherwise. Each module here
states ``DOCUMENT``, ``DEFECT`` and ``CAUGHT_BY`` like the implementation
mutants, and defines ``patch(mp)``, which changes Flax through a
``pytest.MonkeyPatch``. `conformance mutants` runs each one in a fresh process
(``--flax-mutant``), so compiled functions never mix patched and real Flax.
"""
