"""Static HTML pages of verdict grids: one self-contained file each, no script, no external resource.

The release matrix (a claim x release grid) and the table of implementations (a
property x implementation grid) are the same page: rows of properties grouped by
document, a column per release or implementation, and each verdict that is not a
pass opening its message on hover or click. This module holds what both share.
"""

from __future__ import annotations

import html as _html
from collections.abc import Callable
from typing import Any

from conformance.commands.verdict_style import CELL, MISSING, STYLE

CSS = """
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


def e(text: Any) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return _html.escape(str(text), quote=True)


def chip(status: str, extra: str = "", short: bool = False) -> str:
    """A verdict as a coloured label (``short``: the grid's quieter cell label)."""
    symbol, label, fg, bg = STYLE.get(status, MISSING)
    text = CELL.get(status, f"{symbol} {label}") if short else f"{symbol} {label}"
    return f'<span class="chip" style="color:{fg};background:{bg}" title="{e(status)}">{e(text)}{extra}</span>'


def legend() -> str:
    return f'<div class="legend">{"".join(chip(s) for s in STYLE)}</div>'


def grid_rows(
    rows: list[Any],
    columns: list[str],
    cell: Callable[[str, str], dict[str, Any] | None],
    note_number: Callable[[str, str], int | None],
    cell_class: Callable[[str, str], str] = lambda column, prop_id: "",
) -> list[str]:
    """The grid's <tr> lines: a heading row per document, then a row per property (``rows``: id, title,
    kind, document), with one cell per column. ``cell(column, id)`` is the verdict there, if any;
    ``cell_class`` adds a class to a cell (the release matrix marks a cell that changed from its left)."""
    body, document = [], None
    for row in rows:
        if row.document != document:
            document = row.document
            body.append(
                f'<tr class="doc"><td class="claim">Document {e(document)}</td><td colspan="{len(columns)}"></td></tr>'
            )
        tds = [
            f'<td class="claim"><code>{e(row.id)}</code><span class="kind">{e(row.kind)}</span>'
            f'<span class="title">{e(row.title)}</span></td>'
        ]
        for i, column in enumerate(columns):
            r = cell(column, row.id)
            side = "l" if i < len(columns) / 2 else "r"  # the popover opens towards the middle
            classes = " ".join(filter(None, ("cell", side, cell_class(column, row.id))))
            if r is None:
                tds.append(f'<td class="cell">{chip("missing", short=True)}</td>')
            elif r["status"] == "passed" or not r.get("message"):
                tds.append(f'<td class="{classes}">{chip(r["status"], short=True)}</td>')
            else:
                n = note_number(column, row.id)
                tds.append(
                    f'<td class="{classes}" title="{e(r["message"])}"><details><summary>'
                    f"{chip(r['status'], f' <sup>{n}</sup>' if n else '', short=True)}</summary>"
                    f'<div class="pop">{e(r["message"])}</div></details></td>'
                )
        clean = all((r := cell(c, row.id)) is not None and r["status"] == "passed" for c in columns)
        body.append(f'<tr class="{"clean" if clean else "flagged"}">' + "".join(tds) + "</tr>")
    return body


FLAGGED_FILTER = (
    '<input type="checkbox" id="flagged-only"><label for="flagged-only">'
    "Show only claims that do not pass everywhere</label>"
)


def document(title: str, main: str) -> str:
    """The whole page around ``main``."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{e(title)}</title>
<style>{CSS}</style></head>
<body><main>
{main}
</main></body></html>
"""
