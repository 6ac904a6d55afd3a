"""Document 05: nnx.Param versus nnx.Variable state in one nnx module.

The package holds everything that is this document's: its constructions,
oracles, size strategies and property modules. Section names are the
document's own headings (tests/test_registry.py checks them against the
document when it is available).
"""

DOCUMENT = "05"
SOURCE = "05-nnx-multi-param-module.txt"
TITLE = "NNX Multi-Param Module"


class Section:
    """The headings of 05-nnx-multi-param-module.txt that properties and claims cite."""

    WHY = "Why this matters"
    API = "API: nnx.Param vs nnx.Variable"
    WORKED_EXAMPLE = "Worked example"
    PITFALLS = "Common pitfalls"
    NO_MUTATION = "This problem (no mutation yet)"
    PROBLEM = "Problem"
