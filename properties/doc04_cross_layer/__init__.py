"""Document 04: ALBERT-style cross-layer parameter sharing, ported from PyTorch to Flax Linen.

The package holds everything that is this document's:

- ``test_*.py``: the properties, one module per topic (block, sharing, structure, FLOPs, framework);
- ``reading/``: where an implementation keeps each piece of the block, found by shape and behaviour
  (or named by its ``PARAM_ROLES``), whatever its module names and nesting;
- ``numerics/``: the block's maths, its float64 oracle with its tolerances, float32 drift, and the
  parameter-count formulas;
- ``params.py``: one block's parameters in the suite's layout, what ``reading`` hands to ``numerics``
  (the two subpackages never import each other: tests/test_architecture.py);
- ``layout.py``: the block's parameter count checked, then read with the oracle to settle ties;
- ``calls.py``: building and calling the implementation's models, compiled once per size;
- ``constructions.py``: the document's architecture built from Flax's own modules;
- ``probes.py``, ``strategies.py``: probe parameters, and the run's cases and sizes.

Section names are the document's own headings (tests/test_registry.py checks them against the document).
"""

DOCUMENT = "04"
# Modules whose properties only trace (jax.eval_shape, lowering for cost analysis) or build the suite's own
# constructions: they compile none of the programs the numeric properties share, so they run on a worker of
# their own (conformance.engine.plugin.scheduling). Document 04 alone was half of a default run.
WORKER_GROUPS = {"test_structure": "shapes", "test_flops": "shapes", "test_framework": "shapes"}
SOURCE = "04-cross-layer-sharing-albert.md"
TITLE = "A Deep Dive into Cross-Layer Parameter Sharing: The ALBERT Approach"


class Section:
    """The headings of 04-cross-layer-sharing-albert.md that properties and claims cite."""

    INTRODUCTION = "A Deep Dive into Cross-Layer Parameter Sharing: The ALBERT Approach"
    INTUITION = "1. The Intuition: Iterative Refinement vs. An Assembly Line"
    ARCHITECTURE = "2. Architectural Anatomy and Mathematical Formulation"
    VANILLA = "Vanilla Transformer Structure (Un-shared)"
    SHARED_STRUCTURE = "Shared-Parameter Transformer Structure"
    COMPLEXITY = "3. Full Complexity Analysis"
    PARAMETER_COUNT = "Parameter Count"
    FLOPS = "Computational Complexity (FLOPs)"
    CODE = "4. Code Implementation"
    REFERENCE = "5. Key Reference"
