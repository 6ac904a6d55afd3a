"""Document 04: ALBERT-style cross-layer parameter sharing, ported from PyTorch to Flax Linen.

The package holds everything that is this document's: its constructions,
oracles, size strategies and property modules. Section names are the
document's own headings (tests/test_registry.py checks them against the
document when it is available).
"""

DOCUMENT = "04"
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
