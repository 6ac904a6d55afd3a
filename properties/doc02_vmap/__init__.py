"""Document 02: nn.vmap over a Linen module with its params broadcast across the batch.

The package holds everything that is this document's: its constructions,
oracles, size strategies and property modules. Section names are the
document's own headings (tests/test_registry.py checks them against the
document when it is available).
"""

DOCUMENT = "02"
SOURCE = "02-nn-vmap-shared-params.txt"
TITLE = "nn.vmap with shared params"


class Section:
    """The headings of 02-nn-vmap-shared-params.txt that properties and claims cite."""

    WHY = "Why this matters"
    INCANTATION = "The canonical incantation"
    WHY_NN_VMAP = "Why bother with nn.vmap over plain jax.vmap?"
    SHAPES = "Shape semantics"
    PITFALLS = "Common pitfalls"
    PROBLEM = "Problem"
