"""How each verdict looks, in the terminal and on the static pages: one place for every view.

Pure data and one helper; the views (the release matrix, the table of
implementations, their pages) take their marks and colours from here.
"""

from __future__ import annotations

from conformance.engine.outcomes import STATUSES

# status -> (symbol, short label, foreground, background)
STYLE = {
    "passed": ("✓", "passed", "#1a7f37", "#dafbe1"),
    "expected_divergence": ("≈", "expected divergence", "#7d4e00", "#fff4c2"),
    "failed": ("✗", "FAILED", "#b3261e", "#ffdcd8"),
    "error": ("!", "ERROR", "#8a1c12", "#ffc9c2"),
    "crashed": ("☠", "CRASHED", "#6e3fc9", "#f1e6ff"),
    "timeout": ("◔", "TIMEOUT", "#a04100", "#ffe4cc"),
    "not_provided": ("–", "not provided", "#57606a", "#eef1f4"),
    "tampered": ("⚠", "TAMPERED", "#ffffff", "#b3261e"),
}
# short cell labels for the terminal grid
TERM = {
    "passed": "✓ pass",
    "expected_divergence": "≈ expected",
    "failed": "✗ FAIL",
    "error": "! ERROR",
    "crashed": "☠ CRASH",
    "timeout": "◔ TIMEOUT",
    "not_provided": "– n/p",
    "tampered": "⚠ TAMPERED",
}
# cell labels in the HTML grid: a quiet tick for passes, so that everything else stands out
CELL = {
    "passed": "✓",
    "expected_divergence": "≈ expected",
    "failed": "✗ failed",
    "error": "! error",
    "crashed": "☠ crashed",
    "timeout": "◔ timeout",
    "not_provided": "– n/p",
    "tampered": "⚠ tampered",
}
RICH = {
    "passed": "green",
    "expected_divergence": "yellow",
    "failed": "bold red",
    "error": "bold red",
    "crashed": "bold magenta",
    "timeout": "bold red",
    "not_provided": "dim",
    "tampered": "bold white on red",
}
MISSING = ("·", "not run", "#8c959f", "#ffffff")
# one mark per verdict, for grids with a column per property
GLYPH = {status: symbol for status, (symbol, *_rest) in STYLE.items()}


def counts_text(summary: dict[str, int]) -> str:
    parts = [f"{summary[s]} {s}" for s in STATUSES if summary.get(s)]
    return ", ".join(parts) or "no results"
