"""The release matrix as one static HTML page: a claim x release grid, each divergence's message on hover or click."""

from __future__ import annotations

import html as _html
from typing import Any

from conformance.commands.releases.render import (
    CELL,
    MISSING,
    STYLE,
    all_expected,
    build_text,
    cells,
    changed_cells,
    changes_title,
    column_label,
    columns,
    command_line,
    counts_text,
    notes,
    rows,
    summary_of,
    verdict_text,
)
from conformance.engine.changes import adjacent

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
td.cell.chg{box-shadow:inset 3px 0 0 #0969da}td.cell.reg{box-shadow:inset 3px 0 0 #b3261e}
.changes details.chg{background:#fff;border:1px solid var(--line);border-radius:8px;margin:0 0 8px;padding:8px 12px}
.changes summary{cursor:pointer;font-weight:600}.changes summary.reg{color:#b3261e}
.changes table{margin-top:8px}.changes td{vertical-align:top;font-size:12.5px}
.changes pre{white-space:pre-wrap;margin:0;font-size:11.5px;max-height:220px;overflow:auto}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:11px;font-weight:700;
 background:#ffdcd8;color:#b3261e}
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
    ok = all_expected(matrix)
    head = "".join(
        f"<th>{_e(column_label(v)[0])}<small>jax {_e(v['jax'])} · jaxlib {_e(v['jaxlib'])}</small></th>"
        for v in versions
    )
    changed = changed_cells(matrix)
    body, document = [], None
    for row in rows(matrix):
        if row.document != document:
            document = row.document
            body.append(
                f'<tr class="doc"><td class="claim">Document {_e(document)}</td>'
                f'<td colspan="{len(versions)}"></td></tr>'
            )
        tds = [
            f'<td class="claim"><code>{_e(row.id)}</code><span class="kind">{_e(row.kind)}</span>'
            f'<span class="title">{_e(row.title)}</span></td>'
        ]
        for i, (name, _) in enumerate(columns(matrix)):
            r = grid.get((name, row.id))
            side = "l" if i < len(versions) / 2 else "r"  # the popover opens towards the middle
            if (name, row.id) in changed:  # differs from the column on its left
                side += " reg" if changed[(name, row.id)] else " chg"
            if r is None:
                tds.append(f'<td class="cell">{_chip("missing", short=True)}</td>')
            elif r["status"] == "passed" or not r.get("message"):
                tds.append(f'<td class="cell {side}">{_chip(r["status"], short=True)}</td>')
            else:
                note = of_cell[(name, row.id)]
                tds.append(
                    f'<td class="cell {side}" title="{_e(r["message"])}"><details><summary>'
                    f"{_chip(r['status'], f' <sup>{note.n}</sup>', short=True)}</summary>"
                    f'<div class="pop">{_e(r["message"])}</div></details></td>'
                )
        clean = all((r := grid.get((n, row.id))) is not None and r["status"] == "passed" for n, _ in columns(matrix))
        body.append(f'<tr class="{"clean" if clean else "flagged"}">' + "".join(tds) + "</tr>")
    sums = "".join(f"<td>{_e(counts_text(v.get('summary') or summary_of(v)))}</td>" for v in versions)
    body.insert(0, f'<tr class="sum"><td class="claim">Summary</td>{sums}</tr>')
    legend = "".join(_chip(s) for s in STYLE)
    note_html = (
        "".join(
            f'<details id="note-{n.n}"><summary>[{n.n}] {_chip(n.status)} {_e(n.where(limit=8))}</summary>'
            f"<pre>{_e(n.message)}</pre></details>"
            for n in all_notes
        )
        or "<p>None: every claim holds on every release tested.</p>"
    )
    envs = "".join(
        f"<tr><td>{_e(name)}</td><td>{_e(build_text(v))}</td><td>{_e(v['jax'])}</td><td>{_e(v['jaxlib'])}</td>"
        f"<td>{_e(v.get('note', ''))}</td></tr>"
        for name, v in columns(matrix)
    )
    command = command_line(matrix)
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
<div class="verdict {"ok" if ok else "bad"}">{"✓" if ok else "✗"} {_e(verdict_text(matrix))}</div>
<div class="legend">{legend}</div>
<input type="checkbox" id="flagged-only"><label for="flagged-only">Show only claims that do not pass everywhere</label>
<div class="wrap"><table>
<thead><tr><th class="claim">Claim</th>{head}</tr></thead>
<tbody>{"".join(body)}</tbody>
</table></div>
<h2>Divergences and failures</h2>
<div class="notes">{note_html}</div>
<h2>Changes between adjacent columns</h2>
<p class="sub">Every claim whose verdict differs from the column on its left (marked in the grid by a blue
edge, a red one where it regressed: from passed, expected or not provided to failed, error, crashed or
timeout), with both messages. <code>conformance diff OLD.json NEW.json</code> compares two reports the same way.</p>
<div class="changes">{_changes(matrix)}</div>
<h2>Environments</h2>
<div class="wrap envs"><table><thead><tr><th>flax</th><th>build</th><th>jax</th><th>jaxlib</th><th>note</th>
</tr></thead>
<tbody>{envs}</tbody></table></div>
<footer>Generated by <code>{_e(command)}</code>. Hover a cell for its message, or click it to expand.</footer>
</main></body></html>
"""


_BADGE = ' <span class="badge">regressed</span>'


def _message(result: dict[str, Any] | None) -> str:
    if result is None:
        return "(not in this column)"
    return result.get("message") or "(no message)"


def _changes(matrix: dict[str, Any]) -> str:
    """One collapsible block per pair of adjacent columns: each changed claim, both statuses and messages."""
    blocks = []
    for pair in adjacent(matrix):
        regressed = any(c.regressed for c in pair.changes)
        rows_html = "".join(
            f"<tr><td><code>{_e(c.id)}</code>{_BADGE if c.regressed else ''}"
            f"</td><td>{_chip(c.old['status']) if c.old else 'absent'}<pre>{_e(_message(c.old))}"
            f"</pre></td><td>{_chip(c.new['status']) if c.new else 'absent'}"
            f"<pre>{_e(_message(c.new))}</pre></td></tr>"
            for c in pair.changes
        )
        table = (
            f"<table><thead><tr><th>claim</th><th>{_e(pair.old_name)}</th><th>{_e(pair.new_name)}</th></tr></thead>"
            f"<tbody>{rows_html}</tbody></table>"
            if pair.changes
            else ""
        )
        blocks.append(
            f'<details class="chg"{" open" if regressed else ""}><summary class="{"reg" if regressed else ""}">'
            f"{_e(changes_title(pair))}</summary>{table}</details>"
        )
    return "".join(blocks) or "<p>One column: nothing to compare.</p>"
