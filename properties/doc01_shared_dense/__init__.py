"""Document 01: one Linen module called at two sites shares one set of params.

The package holds everything that is this document's: its constructions,
oracles, size strategies and property modules. Section names are the
document's own headings (tests/test_registry.py checks them against the
document when it is available).
"""

DOCUMENT = "01"
SOURCE = "01-param-sharing-one-module-two-call-sites.txt"
TITLE = "Param Sharing — One Module, Two Call Sites"


class Section:
    """The headings of 01-param-sharing-one-module-two-call-sites.txt that properties and claims cite."""

    WHY = "Why this matters"
    PATTERN = "The pattern: setup() with one named sub-module"
    SHAPE_CONSTRAINT = "Why the second call works (shape constraint)"
    SETUP_VS_COMPACT = "setup() vs @nn.compact"
    PITFALLS = "Common pitfalls"
    VERIFYING = "Verifying the sharing"
    PROBLEM = "Problem"
