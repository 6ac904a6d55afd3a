"""Document 03: one kernel shared between an nnx.Linear and a Linen nn.Dense.

The package holds everything that is this document's: its constructions,
oracles, size strategies and property modules. Section names are the
document's own headings (tests/test_registry.py checks them against the
document when it is available).
"""

DOCUMENT = "03"
SOURCE = "03-nnx-bridge-shared-params.txt"
TITLE = "NNX Bridge: Shared Params Across nnx and Linen"


class Section:
    """The headings of 03-nnx-bridge-shared-params.txt that properties and claims cite."""

    WHY = "Why this matters"
    SETUP = "The setup"
    NON_OBVIOUS = "Why this is non-obvious"
    WHY_SHARE = "Why share params at all?"
    PITFALLS = "Common pitfalls"
    PROBLEM = "Problem"
