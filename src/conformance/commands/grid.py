"""The terminal table of a run of several implementations: one row each, one mark per property.

Marks are grouped by document, in catalogue order, so that a column of marks is
one property down every implementation. Below the table, each implementation's
properties that did not pass are named, with the first line of why; the full
messages are in the JSON report and the HTML page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from conformance.commands.console import console
from conformance.commands.verdict_style import GLYPH, RICH, TERM, counts_text
from conformance.engine.batch.merge import OUTCOMES
from conformance.engine.outcomes import BAD

_CLAIM_LINE = re.compile(r"^\[[^\]]+\] document \d+, section ")
_OUTCOME_STYLE = {
    "passed": "green",
    "failed": "bold red",
    "cannot load": "bold magenta",
    "nothing ran": "yellow",
    "incomplete": "yellow",
    "tampered": RICH["tampered"],
}


def implementation_ids(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(document, id) of every implementation property in the report, in catalogue order."""
    found = {(r["document"], r["id"]) for r in report["results"] if r["implementation"] is not None}
    return sorted(found)


def statuses(report: dict[str, Any]) -> dict[tuple[str | None, str], dict[str, Any]]:
    return {(r["implementation"], r["id"]): r for r in report["results"]}


def _marks(ids: list[tuple[str, str]], name: str, cells: dict) -> list[Text]:
    by_document: dict[str, Text] = {}
    for document, pid in ids:
        r = cells.get((name, pid))
        status = r["status"] if r else "missing"
        by_document.setdefault(document, Text()).append(GLYPH.get(status, "·"), style=RICH.get(status, "dim"))
    return [by_document[d] for d in sorted(by_document)]


def _first_line(message: str) -> str:
    """What went wrong, in a line: a verdict's message opens with its claim and inputs, then says it."""
    lines = [line for line in (message or "").splitlines() if line.strip()]
    if lines and _CLAIM_LINE.match(lines[0]):
        lines = [
            line for line in lines[1:] if not line.startswith(("inputs (shrunk):", "what to check:", "reproduce:"))
        ]
    return (lines or [""])[0][:160]


def _failure_line(r: dict[str, Any]) -> Text:
    return Text(f"  {r['status']} {r['id']}: ", style=RICH.get(r["status"], "bold")) + Text(_first_line(r["message"]))


def print_grid(report: dict[str, Any], *, written: list[str]) -> None:
    ids = implementation_ids(report)
    cells = statuses(report)
    documents = sorted({d for d, _ in ids})
    table = Table(header_style="bold", title="implementations x properties", title_justify="left")
    table.add_column("implementation", no_wrap=True)
    for d in documents:
        table.add_column(d, no_wrap=True)
    table.add_column("passed", justify="right")
    table.add_column("not passed", justify="right")
    table.add_column("outcome", no_wrap=True)
    for d in report["implementations"]:
        s = d.get("summary") or {}
        bad = sum(s.get(k, 0) for k in BAD)
        table.add_row(
            d["name"],
            *_marks(ids, d["name"], cells),
            str(s.get("passed", 0)),
            str(bad) if bad else "",
            Text(d.get("outcome", ""), style=_OUTCOME_STYLE.get(d.get("outcome", ""), "")),
        )
    if ids:
        console.print(table)
    console.print(Text("  ".join(f"{GLYPH[s]} {s}" for s in TERM), style="dim"))
    fw = report.get("framework") or {}
    if any((fw.get("summary") or {}).values()):
        version = (report.get("versions") or {}).get("flax", "?")
        console.print(f"[bold]framework properties[/] (flax {version}, run once): {counts_text(fw['summary'])}")
    for r in report["results"]:
        if r["implementation"] is None and r["status"] in BAD:
            console.print(_failure_line(r))
    for d in report["implementations"]:
        if d.get("load_error"):
            console.print(Text(d["name"], style="bold") + Text(f" cannot load: {d['load_error']}"))
            continue
        mine = [r for r in report["results"] if r["implementation"] == d["name"] and r["status"] in BAD]
        if mine:
            console.print(Text(d["name"], style="bold") + Text(f" ({d['target']})"))
        for r in mine:
            console.print(_failure_line(r))
    by_reason: dict[str, list[str]] = {}
    for s in report.get("skipped") or []:
        by_reason.setdefault(s["reason"], []).append(Path(s["path"]).name)
    for reason, names in by_reason.items():
        console.print(Text(f"skipped ({reason}): {', '.join(names)}", style="dim"))
    partial = " [bold yellow](partial: the run was interrupted)[/]" if report["partial"] else ""
    console.print(
        f"[bold]summary[/] {len(report['implementations'])} implementations: "
        + ", ".join(
            f"{n} {outcome}"
            for outcome in OUTCOMES
            if (n := sum(d.get("outcome") == outcome for d in report["implementations"]))
        )
        + f"; {counts_text(report['summary'])} in {report['seconds']:.1f} s{partial}"
    )
    if written:
        console.print(f"[bold]report[/] {', '.join(written)}")
