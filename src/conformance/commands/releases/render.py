"""Views of a ``conformance matrix`` result: terminal table, Markdown, one HTML page.

Pure functions of the matrix JSON (``{"versions": [{"flax", "jax", "jaxlib",
"results": [{"id", "title", "status", "message", ...}]}]}``): they build and
return renderables or strings and do no I/O.
"""

from __future__ import annotations

import html as _html
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
}
# short cell labels for the terminal grid
TERM = {"passed": "✓ pass", "expected_divergence": "≈ expected", "failed": "✗ FAIL", "error": "! ERROR",
        "crashed": "☠ CRASH", "timeout": "◔ TIMEOUT", "not_provided": "– n/p"}
# cell labels in the HTML grid: a quiet tick for passes, so that everything else stands out
CELL = {"passed": "✓", "expected_divergence": "≈ expected", "failed": "✗ failed", "error": "! error",
        "crashed": "☠ crashed", "timeout": "◔ timeout", "not_provided": "– n/p"}
RICH = {"passed": "green", "expected_divergence": "yellow", "failed": "bold red", "error": "bold red",
        "crashed": "bold magenta", "timeout": "bold red", "not_provided": "dim"}
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


def _ok(matrix: dict[str, Any]) -> bool:
    return not any(r["status"] in ("failed", "error", "crashed", "timeout")
                   for v in matrix["versions"] for r in v["results"])


def _verdict(matrix: dict[str, Any]) -> str:
    bad = sum(1 for v in matrix["versions"] for r in v["results"]
              if r["status"] in ("failed", "error", "crashed", "timeout"))
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
        table.add_column(f"flax {version['flax']}\njax {version['jax']}\njaxlib {version['jaxlib']}",
                         justify="center", no_wrap=True)
    grid = cells(matrix)
    for row in rows(matrix):
        line = [Text(row.id)]
        for version in matrix["versions"]:
            r = grid.get((version["flax"], row.id))
            if r is None:
                line.append(Text("· not run", style="dim"))
                continue
            note = of_cell.get((version["flax"], row.id))
            line.append(Text(TERM.get(r["status"], r["status"]) + (f" [{note.n}]" if note else ""),
                             style=RICH.get(r["status"], "")))
        table.add_row(*line)
    table.add_section()
    table.add_row(Text("summary", style="bold"),
                  *[Text(counts_short(v.get("summary") or _summary(v))) for v in matrix["versions"]])
    legend = Text("  ".join(f"{TERM[s]} = {s}" for s in STYLE), style="dim")
    out: list[Any] = [table, legend]
    for note in all_notes:
        out += [Text(f"[{note.n}] {note.status}: {note.where()}", style=RICH.get(note.status, "")),
                Text(_indent(note.message, "    "))]
    out.append(Text(f"matrix: {_verdict(matrix)}", style="bold green" if _ok(matrix) else "bold red"))
    return out


def counts_short(summary: dict[str, int]) -> str:
    return " ".join(f"{STYLE[s][0]}{summary[s]}" for s in STYLE if summary.get(s)) or "-"


def _summary(version: dict[str, Any]) -> dict[str, int]:
    counts = {s: 0 for s in STATUSES}
    for r in version["results"]:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


# --------------------------------------------------------------------------- Markdown

MD_ICON = {"passed": "✅", "expected_divergence": "⚠️", "failed": "❌", "error": "🛑", "crashed": "💥",
           "timeout": "⏱️", "not_provided": "➖"}


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(matrix: dict[str, Any]) -> str:
    all_notes, of_cell = notes(matrix)
    grid = cells(matrix)
    versions = matrix["versions"]
    out = ["# Flax release compatibility", "",
           f"Implementation `{matrix.get('implementation', '?')}`, Hypothesis profile "
           f"`{matrix.get('profile', '?')}`, {matrix.get('python', 'Python ?')}. "
           f"Generated by `conformance matrix --flax {' '.join(v['flax'] for v in versions)}`; "
           f"result: {_verdict(matrix)}.", "",
           "Legend: " + ", ".join(f"{MD_ICON[s]} {STYLE[s][1]}" for s in STYLE) + ". "
           "Numbers in brackets refer to the messages below.", ""]
    header = ["Property"] + [" ".join(column_label(v)) for v in versions]
    out += ["| " + " | ".join(_md_cell(h) for h in header) + " |",
            "|" + "---|" + ":---:|" * len(versions)]
    for row in rows(matrix):
        line = [f"`{row.id}` {_md_cell(row.title)}"]
        for version in versions:
            r = grid.get((version["flax"], row.id))
            if r is None:
                line.append(MISSING[1])
                continue
            note = of_cell.get((version["flax"], row.id))
            line.append(f"{MD_ICON.get(r['status'], '?')} {STYLE.get(r['status'], MISSING)[1]}"
                        + (f" [{note.n}](#note-{note.n})" if note else ""))
        out.append("| " + " | ".join(line) + " |")
    out.append("| **summary** | " + " | ".join(
        _md_cell(counts_text(v.get("summary") or _summary(v))) for v in versions) + " |")
    out += ["", "## Divergences and failures", ""]
    if not all_notes:
        out += ["None: every claim holds on every release tested.", ""]
    for note in all_notes:
        out += [f'<a id="note-{note.n}"></a>',
                f"### [{note.n}] {STYLE.get(note.status, MISSING)[1]}: {note.where(limit=8)}",
                "", "```text", note.message.replace("```", "'''"), "```", ""]
    out += ["## Environments", "", "| flax | jax | jaxlib | note |", "|---|---|---|---|"]
    for v in versions:
        out.append(f"| {v['flax']} | {v['jax']} | {v['jaxlib']} | {_md_cell(v.get('note', ''))} |")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- HTML

_CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--card:#fff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;
 color:var(--fg);background:var(--bg)}
main{max-width:1400px;margin:0 auto;padding:28px 32px 48px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:36px 0 12px}
.sub{color:var(--muted);margin:0 0 18px}
.verdict{display:inline-block;padding:4px 12px;border-radius:999px;font-weight:600;margin-bottom:16px}
.verdict.ok{background:#dafbe1;color:#1a7f37}.verdict.bad{background:#ffdcd8;color:#b3261e}
.legend{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 18px}
.chip{display:inline-flex;align-items:center;gap:6px;padding:3px 10px;border-radius:6px;font-size:12px;
 font-weight:600;white-space:nowrap}
.wrap{background:var(--card);border:1px solid var(--line);border-radius:10px;
 box-shadow:0 1px 3px rgba(31,35,40,.06)}
@media (max-width:1100px){.wrap{overflow:auto}}
table{border-collapse:separate;border-spacing:0;width:100%}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:middle}
thead th{position:sticky;top:0;background:#fff;z-index:2;text-align:center;font-weight:600;
 border-bottom:2px solid var(--line)}
thead th small{display:block;color:var(--muted);font-weight:400;font-size:11.5px}
th.claim,td.claim{text-align:left;min-width:300px;max-width:440px;position:sticky;left:0;background:#fff;z-index:1}
thead th.claim{z-index:3}
td.claim code{font-size:12px;color:#0550ae;background:none;padding:0;white-space:nowrap}
td.claim .title{color:var(--muted);font-size:12.5px;display:block}
td.claim .kind{font-size:10.5px;text-transform:uppercase;letter-spacing:.04em;color:#8c959f;margin-left:6px}
tr.doc td,tr.doc td.claim{background:#f0f3f6;font-weight:600;font-size:12px;letter-spacing:.03em;color:#424a53;
 text-transform:uppercase}
td.cell{text-align:center;white-space:nowrap;min-width:96px;position:relative}
td.cell:hover{background:#f6f8fa}
td.cell.r .pop{left:auto;right:0}
td.cell .chip{cursor:default}
td.cell details{display:inline-block;text-align:left}
td.cell summary{list-style:none;cursor:pointer}
td.cell summary::-webkit-details-marker{display:none}
td.cell summary .chip::after{content:"▾";font-size:10px;opacity:.7}
td.cell details[open] summary .chip::after{content:"▴"}
.pop{position:absolute;z-index:5;left:0;margin-top:6px;width:min(600px,70vw);max-height:360px;overflow:auto;
 background:#fff;border:1px solid var(--line);border-radius:8px;box-shadow:0 8px 24px rgba(31,35,40,.18);
 padding:10px 12px;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;
 color:var(--fg)}
tr.sum td{font-size:12px;color:var(--muted);text-align:center;background:#fafbfc}
#flagged-only{margin:0 6px 14px 2px;vertical-align:middle}
label[for=flagged-only]{color:var(--muted);font-size:13px;cursor:pointer;vertical-align:middle}
#flagged-only:checked ~ .wrap tr.clean,#flagged-only:checked ~ .wrap tr.doc{display:none}
tr.sum td.claim{text-align:left;font-weight:600;color:var(--fg);background:#fafbfc}
.notes details{background:#fff;border:1px solid var(--line);border-radius:8px;margin:0 0 8px;padding:8px 12px}
.notes summary{cursor:pointer;font-weight:600}
.notes pre{white-space:pre-wrap;margin:8px 0 0;font-size:12px}
.envs td,.envs th{text-align:left;font-size:13px}
footer{color:var(--muted);font-size:12px;margin-top:28px}
"""


def _e(text: Any) -> str:
    return _html.escape(str(text), quote=True)


def _chip(status: str, extra: str = "", short: bool = False) -> str:
    symbol, label, fg, bg = STYLE.get(status, MISSING)
    text = CELL.get(status, f"{symbol} {label}") if short else f"{symbol} {label}"
    return f'<span class="chip" style="color:{fg};background:{bg}" title="{_e(status)}">{_e(text)}{extra}</span>'


def html(matrix: dict[str, Any]) -> str:
    all_notes, of_cell = notes(matrix)
    grid = cells(matrix)
    versions = matrix["versions"]
    ok = _ok(matrix)
    head = "".join(f'<th>{_e(column_label(v)[0])}<small>jax {_e(v["jax"])} · jaxlib {_e(v["jaxlib"])}</small></th>'
                   for v in versions)
    body, document = [], None
    for row in rows(matrix):
        if row.document != document:
            document = row.document
            body.append(f'<tr class="doc"><td class="claim">Document {_e(document)}</td>'
                        f'<td colspan="{len(versions)}"></td></tr>')
        tds = [f'<td class="claim"><code>{_e(row.id)}</code><span class="kind">{_e(row.kind)}</span>'
               f'<span class="title">{_e(row.title)}</span></td>']
        for i, version in enumerate(versions):
            r = grid.get((version["flax"], row.id))
            side = "l" if i < len(versions) / 2 else "r"  # the popover opens towards the middle
            if r is None:
                tds.append(f'<td class="cell">{_chip("missing", short=True)}</td>')
            elif r["status"] == "passed" or not r.get("message"):
                tds.append(f'<td class="cell">{_chip(r["status"], short=True)}</td>')
            else:
                note = of_cell[(version["flax"], row.id)]
                tds.append(f'<td class="cell {side}" title="{_e(r["message"])}"><details><summary>'
                           f'{_chip(r["status"], f" <sup>{note.n}</sup>", short=True)}</summary>'
                           f'<div class="pop">{_e(r["message"])}</div></details></td>')
        clean = all((r := grid.get((v["flax"], row.id))) is not None and r["status"] == "passed" for v in versions)
        body.append(f'<tr class="{"clean" if clean else "flagged"}">' + "".join(tds) + "</tr>")
    sums = "".join(f'<td>{_e(counts_text(v.get("summary") or _summary(v)))}</td>' for v in versions)
    body.insert(0, f'<tr class="sum"><td class="claim">Summary</td>{sums}</tr>')
    legend = "".join(_chip(s) for s in STYLE)
    note_html = "".join(
        f'<details id="note-{n.n}"><summary>[{n.n}] {_chip(n.status)} {_e(n.where(limit=8))}</summary>'
        f'<pre>{_e(n.message)}</pre></details>'
        for n in all_notes) or "<p>None: every claim holds on every release tested.</p>"
    envs = "".join(f"<tr><td>{_e(v['flax'])}</td><td>{_e(v['jax'])}</td><td>{_e(v['jaxlib'])}</td>"
                   f"<td>{_e(v.get('note', ''))}</td></tr>" for v in versions)
    command = "conformance matrix --flax " + " ".join(v["flax"] for v in versions)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Flax release compatibility</title>
<style>{_CSS}</style></head>
<body><main>
<h1>Flax release compatibility</h1>
<p class="sub">Each claim of the documents, checked on each Flax release in its own environment ·
implementation <code>{_e(matrix.get("implementation", "?"))}</code> · Hypothesis profile
<code>{_e(matrix.get("profile", "?"))}</code> · {_e(matrix.get("python", ""))}</p>
<div class="verdict {'ok' if ok else 'bad'}">{'✓' if ok else '✗'} {_e(_verdict(matrix))}</div>
<div class="legend">{legend}</div>
<input type="checkbox" id="flagged-only"><label for="flagged-only">Show only claims that do not pass everywhere</label>
<div class="wrap"><table>
<thead><tr><th class="claim">Claim</th>{head}</tr></thead>
<tbody>{''.join(body)}</tbody>
</table></div>
<h2>Divergences and failures</h2>
<div class="notes">{note_html}</div>
<h2>Environments</h2>
<div class="wrap envs"><table><thead><tr><th>flax</th><th>jax</th><th>jaxlib</th><th>note</th></tr></thead>
<tbody>{envs}</tbody></table></div>
<footer>Generated by <code>{_e(command)}</code>. Hover a cell for its message, or click it to expand.</footer>
</main></body></html>
"""
