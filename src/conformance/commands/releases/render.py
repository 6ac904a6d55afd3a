"""Views of a ``conformance matrix`` result: the terminal table and Markdown (the HTML page: :mod:`.page`).

Pure functions of the matrix JSON (``{"versions": [{"label", "flax", "jax",
"jaxlib", "results": [{"id", "title", "status", "message", ...}]}]}``): they
build and return renderables or strings and do no I/O. A column is named by its
build's label (``"label"``; older reports have only ``"flax"``), with its jax
where one build runs with several (:func:`conformance.engine.changes.column_names`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.commands.verdict_style import MISSING, RICH, STYLE, TERM, counts_text
from conformance.engine.changes import ColumnPair, adjacent, column_key, column_names
from conformance.engine.outcomes import BAD, STATUSES


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


def columns(matrix: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, column) for every column, in order; the name is unique within the matrix."""
    return list(zip(column_names(matrix), matrix["versions"], strict=True))


def cells(matrix: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every verdict by (column name, property id)."""
    return {(name, r["id"]): r for name, v in columns(matrix) for r in v["results"]}


def notes(matrix: dict[str, Any]) -> tuple[list[Note], dict[tuple[str, str], Note]]:
    """Every non-passing verdict's message, numbered; and the note of each (column name, id) cell."""
    by_text: dict[tuple[str, str], Note] = {}
    of_cell: dict[tuple[str, str], Note] = {}
    grid = cells(matrix)
    for row in rows(matrix):
        for name, version in columns(matrix):
            r = grid.get((name, row.id))
            if r is None or r["status"] == "passed" or not r.get("message"):
                continue
            key = (r["status"], _stable(r["message"], version["flax"]))
            note = by_text.get(key)
            if note is None:
                note = by_text[key] = Note(len(by_text) + 1, r["status"], r["message"])
            if row.id not in note.ids:
                note.ids.append(row.id)
            if name not in note.flax:
                note.flax.append(name)
            of_cell[(name, row.id)] = note
    return list(by_text.values()), of_cell


def changed_cells(matrix: dict[str, Any]) -> dict[tuple[str, str], bool]:
    """(column name, id) of every verdict that differs from the column before; True where it regressed."""
    return {(pair.new_name, c.id): c.regressed for pair in adjacent(matrix) for c in pair.changes}


def change_line(change: Any) -> str:
    mark = "REGRESSED" if change.regressed else "changed"
    return f"{change.id}: {change.old_status} → {change.new_status} ({mark})"


def first_line(message: str | None) -> str:
    return (message or "").strip().splitlines()[0] if (message or "").strip() else "(no message)"


def changes_title(pair: ColumnPair) -> str:
    n, bad = len(pair.changes), sum(c.regressed for c in pair.changes)
    counted = f"{n} change{'s' if n != 1 else ''}" + (f", {bad} regressed" if bad else "")
    return f"{pair.old_name} → {pair.new_name}: {counted if n else 'no change'}"


def _stable(message: str, flax: str) -> str:
    """A message with its release number blanked, so the same divergence on two releases is one note."""
    return message.replace(f"flax {flax}", "flax <V>")


def column_label(version: dict[str, Any]) -> tuple[str, str]:
    return f"flax {column_key(version)[0]}", f"jax {version['jax']} / jaxlib {version['jaxlib']}"


def command_line(matrix: dict[str, Any]) -> str:
    """The ``conformance matrix`` command that regenerates this matrix's columns."""
    asked = [v.get("asked_as") or column_key(v)[0] for v in matrix["versions"]]
    return "conformance matrix --flax " + " ".join(asked)


def all_expected(matrix: dict[str, Any]) -> bool:
    return not any(r["status"] in BAD for v in matrix["versions"] for r in v["results"])


def verdict_text(matrix: dict[str, Any]) -> str:
    bad = sum(1 for v in matrix["versions"] for r in v["results"] if r["status"] in BAD)
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
            f"{column_label(version)[0]}\njax {version['jax']}\njaxlib {version['jaxlib']}",
            justify="center",
            no_wrap=True,
        )
    grid = cells(matrix)
    for row in rows(matrix):
        line = [Text(row.id)]
        for name, _ in columns(matrix):
            r = grid.get((name, row.id))
            if r is None:
                line.append(Text("· not run", style="dim"))
                continue
            note = of_cell.get((name, row.id))
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
    for pair in adjacent(matrix):
        out.append(Text(changes_title(pair), style="bold red" if any(c.regressed for c in pair.changes) else ""))
        for change in pair.changes:
            out.append(Text("    " + change_line(change), style="red" if change.regressed else ""))
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
        f"Generated by `{command_line(matrix)}`; "
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
        for name, _ in columns(matrix):
            r = grid.get((name, row.id))
            if r is None:
                line.append(MISSING[1])
                continue
            note = of_cell.get((name, row.id))
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
    out += ["## Changes between adjacent columns", ""]
    for pair in adjacent(matrix):
        out += [f"### {_md_cell(changes_title(pair))}", ""]
        for c in pair.changes:
            out.append(
                f"- `{c.id}`: {c.old_status} → {c.new_status}{' **(regressed)**' if c.regressed else ''}. "
                f"Before: {_md_cell(first_line((c.old or {}).get('message')))} "
                f"After: {_md_cell(first_line((c.new or {}).get('message')))}"
            )
        out.append("")
    out += ["## Environments", "", "| flax | build | jax | jaxlib | note |", "|---|---|---|---|---|"]
    for name, v in columns(matrix):
        out.append(
            f"| {_md_cell(name)} | {_md_cell(build_text(v))} | {v['jax']} | {v['jaxlib']} | "
            f"{_md_cell(v.get('note', ''))} |"
        )
    return "\n".join(out) + "\n"


def build_text(version: dict[str, Any]) -> str:
    """What a column's build is: ``release``, or the kind of local build, its source and commit."""
    build = version.get("build") or {"kind": "release"}
    if build.get("kind", "release") == "release":
        return "release (PyPI)"
    parts = [build["kind"], build.get("source", "")]
    if build.get("commit"):
        parts.append(f"commit {build['commit'][:12]}" + (" with uncommitted changes" if build.get("dirty") else ""))
    return " ".join(p for p in parts if p)
