"""Views of a ``conformance matrix`` result: the terminal table and Markdown (the HTML page: :mod:`.page`).

Pure functions of the matrix JSON (``{"versions": [{"flax", "jax", "jaxlib",
"results": [{"id", "title", "status", "message", ...}]}]}``): they build and
return renderables or strings and do no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Row:
    id: str
    title: str
    kind: str
    document: str


@dataclass
class Note:
    """One message shown under the grid; cells with the same message (up to the release number) share it."""

    n: int
    status: str
    message: str
    ids: list[str] = field(default_factory=list)
    flax: list[str] = field(default_factory=list)

    def where(self, limit: int = 4) -> str:
        ids = ", ".join(self.ids) if len(self.ids) <= limit else f"{len(self.ids)} properties"
        return f"{ids} on flax {', '.join(self.flax)}"


def rows(matrix: dict[str, Any]) -> list[Row]:
    seen: dict[str, Row] = {}
    for version in matrix["versions"]:
        for r in version["results"]:
            if r["id"] not in seen:
                seen[r["id"]] = Row(r["id"], r.get("title", ""), r.get("kind", ""), r.get("document", ""))
    return sorted(seen.values(), key=lambda row: (row.document, row.id))


def cells(matrix: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(v["flax"], r["id"]): r for v in matrix["versions"] for r in v["results"]}


def notes(matrix: dict[str, Any]) -> tuple[list[Note], dict[tuple[str, str], Note]]:
    """Every non-passing verdict's message, numbered; and the note of each (flax, id) cell."""
    by_text: dict[tuple[str, str], Note] = {}
    of_cell: dict[tuple[str, str], Note] = {}
    grid = cells(matrix)
    for row in rows(matrix):
        for version in matrix["versions"]:
            r = grid.get((version["flax"], row.id))
            if r is None or r["status"] == "passed" or not r.get("message"):
                continue
            key = (r["status"], _stable(r["message"], version["flax"]))
            note = by_text.get(key)
            if note is None:
                note = by_text[key] = Note(len(by_text) + 1, r["status"], r["message"])
            if row.id not in note.ids:
                note.ids.append(row.id)
            if version["flax"] not in note.flax:
                note.flax.append(version["flax"])
            of_cell[(version["flax"], row.id)] = note
    return list(by_text.values()), of_cell


def _stable(message: str, flax: str) -> str:
    """A message with its release number blanked, so the same divergence on two releases is one note."""
    return message.replace(f"flax {flax}", "flax <V>")


def counts_text(summary: dict[str, int]) -> str:
    parts = [f"{summary[s]} {s}" for s in STATUSES if summary.get(s)]
    return ", ".join(parts) or "no results"


def column_label(version: dict[str, Any]) -> tuple[str, str]:
    return f"flax {version['flax']}", f"jax {version['jax']} / jaxlib {version['jaxlib']}"


def all_expected(matrix: dict[str, Any]) -> bool:
    return not any(
        r["status"] in ("failed", "error", "crashed", "timeout") for v in matrix["versions"] for r in v["results"]
    )


def verdict_text(matrix: dict[str, Any]) -> str:
    bad = sum(
        1 for v in matrix["versions"] for r in v["results"] if r["status"] in ("failed", "error", "crashed", "timeout")
    )
    if not bad:
        return "every divergence is an expected one"
    return f"{bad} verdict{'s' if bad != 1 else ''} not covered by properties/expectations.toml"


# --------------------------------------------------------------------------- terminal (rich)


def terminal(matrix: dict[str, Any]) -> list[Any]:
    """Renderables for the console: the grid, a legend, then every divergence/failure message in full."""
    from rich.table import Table
    from rich.text import Text

    all_notes, of_cell = notes(matrix)
    table = Table(title="Flax release matrix", title_justify="left", title_style="bold")
    table.add_column("property", no_wrap=True)
    for version in matrix["versions"]:
        table.add_column(
            f"flax {version['flax']}\njax {version['jax']}\njaxlib {version['jaxlib']}", justify="center", no_wrap=True
        )
    grid = cells(matrix)
    for row in rows(matrix):
        line = [Text(row.id)]
        for version in matrix["versions"]:
            r = grid.get((version["flax"], row.id))
            if r is None:
                line.append(Text("· not run", style="dim"))
                continue
            note = of_cell.get((version["flax"], row.id))
            line.append(
                Text(
                    TERM.get(r["status"], r["status"]) + (f" [{note.n}]" if note else ""),
                    style=RICH.get(r["status"], ""),
                )
            )
        table.add_row(*line)
    table.add_section()
    table.add_row(
        Text("summary", style="bold"),
        *[Text(counts_short(v.get("summary") or summary_of(v))) for v in matrix["versions"]],
    )
    legend = Text("  ".join(f"{TERM[s]} = {s}" for s in STYLE), style="dim")
    out: list[Any] = [table, legend]
    for note in all_notes:
        out += [
            Text(f"[{note.n}] {note.status}: {note.where()}", style=RICH.get(note.status, "")),
            Text(_indent(note.message, "    ")),
        ]
    out.append(Text(f"matrix: {verdict_text(matrix)}", style="bold green" if all_expected(matrix) else "bold red"))
    return out


def counts_short(summary: dict[str, int]) -> str:
    return " ".join(f"{STYLE[s][0]}{summary[s]}" for s in STYLE if summary.get(s)) or "-"


def summary_of(version: dict[str, Any]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for r in version["results"]:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


# --------------------------------------------------------------------------- Markdown

MD_ICON = {
    "passed": "✅",
    "expected_divergence": "⚠️",
    "failed": "❌",
    "error": "🛑",
    "crashed": "💥",
    "timeout": "⏱️",
    "not_provided": "➖",
    "tampered": "🚨",
}


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(matrix: dict[str, Any]) -> str:
    all_notes, of_cell = notes(matrix)
    grid = cells(matrix)
    versions = matrix["versions"]
    out = [
        "# Flax release compatibility",
        "",
        f"Implementation `{matrix.get('implementation', '?')}`, Hypothesis profile "
        f"`{matrix.get('profile', '?')}`, {matrix.get('python', 'Python ?')}. "
        f"Generated by `conformance matrix --flax {' '.join(v['flax'] for v in versions)}`; "
        f"result: {verdict_text(matrix)}.",
        "",
        "Legend: " + ", ".join(f"{MD_ICON[s]} {STYLE[s][1]}" for s in STYLE) + ". "
        "Numbers in brackets refer to the messages below.",
        "",
    ]
    header = ["Property"] + [" ".join(column_label(v)) for v in versions]
    out += ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" + ":---:|" * len(versions)]
    for row in rows(matrix):
        line = [f"`{row.id}` {_md_cell(row.title)}"]
        for version in versions:
            r = grid.get((version["flax"], row.id))
            if r is None:
                line.append(MISSING[1])
                continue
            note = of_cell.get((version["flax"], row.id))
            line.append(
                f"{MD_ICON.get(r['status'], '?')} {STYLE.get(r['status'], MISSING)[1]}"
                + (f" [{note.n}](#note-{note.n})" if note else "")
            )
        out.append("| " + " | ".join(line) + " |")
    out.append(
        "| **summary** | "
        + " | ".join(_md_cell(counts_text(v.get("summary") or summary_of(v))) for v in versions)
        + " |"
    )
    out += ["", "## Divergences and failures", ""]
    if not all_notes:
        out += ["None: every claim holds on every release tested.", ""]
    for note in all_notes:
        out += [
            f'<a id="note-{note.n}"></a>',
            f"### [{note.n}] {STYLE.get(note.status, MISSING)[1]}: {note.where(limit=8)}",
            "",
            "```text",
            note.message.replace("```", "'''"),
            "```",
            "",
        ]
    out += ["## Environments", "", "| flax | jax | jaxlib | note |", "|---|---|---|---|"]
    for v in versions:
        out.append(f"| {v['flax']} | {v['jax']} | {v['jaxlib']} | {_md_cell(v.get('note', ''))} |")
    return "\n".join(out) + "\n"
