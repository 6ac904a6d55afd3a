"""``conformance claims``: the traceability table, every document statement and what checks it."""

from __future__ import annotations

import argparse
import json
from typing import Any

from conformance.engine.runner import EXIT_OK, UsageError

COVERAGE_STYLE = {"full": "green", "partial": "yellow", "none": "bold red", "not-checkable": "dim"}


def cmd_claims(args: argparse.Namespace) -> int:
    from conformance.engine.claims import CatalogueError, load_catalogues, traceability
    from conformance.engine.registry import discover

    props = discover()
    try:
        catalogues = load_catalogues(props)
    except CatalogueError as exc:
        raise UsageError(f"malformed claims catalogue: {exc}") from None
    if args.json:
        from conformance.engine.mutants import proving_mutants

        table = traceability(catalogues, props, [args.document] if args.document else None, proving_mutants())
        print(json.dumps(table, indent=2, ensure_ascii=False))
        return EXIT_OK
    _print(traceability(catalogues, props, [args.document] if args.document else None))
    return EXIT_OK


def _print(table: dict[str, Any]) -> None:
    from rich.table import Table

    from conformance.commands.console import console

    for doc in table["documents"]:
        t = Table(header_style="bold", title=f"{doc['document']}  {doc['title']}", title_justify="left", expand=True)
        for col, ratio in (("claim", None), ("section", 2), ("says", 5), ("coverage", None)):
            t.add_column(col, overflow="fold", ratio=ratio, no_wrap=ratio is None)
        t.add_column("properties", no_wrap=True)  # whole ids, one per line
        for c in doc["claims"]:
            style = COVERAGE_STYLE[c["coverage"]]
            t.add_row(c["id"], c["section"], c["says"], f"[{style}]{c['coverage']}[/]", "\n".join(c["properties"]))
        console.print(t)
    summary = Table(header_style="bold", title="coverage per document", title_justify="left")
    columns = (
        "claims",
        "checkable",
        "full",
        "partial",
        "none",
        "not-checkable",
        "properties",
        "properties_without_claim",
    )
    headers = ("claims", "checkable", "full", "partial", "none", "not checkable", "properties", "props w/o claim")
    summary.add_column("doc")
    for h in headers:
        summary.add_column(h, justify="right")
    for doc in table["documents"]:
        summary.add_row(doc["document"], *(str(doc["counts"][k]) for k in columns))
    summary.add_row("all", *(str(table["totals"].get(k, 0)) for k in columns), style="bold")
    console.print(summary)
    for u in table["unclaimed_properties"]:
        console.print(f"[bold]{u['id']}[/] backs no statement of document {u['document']}: {u['reason']}")
    if table["untraced_properties"]:
        console.print(
            "[bold red]properties named by no claim and not listed in unclaimed_properties:[/] "
            + ", ".join(table["untraced_properties"])
        )
