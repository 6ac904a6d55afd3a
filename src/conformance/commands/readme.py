"""The README's tables that mirror the code, generated from it: ``make docs`` writes them, a test checks them.

A generated block sits between two markers in the README::

    <!-- begin generated: NAME (make docs) -->
    ...
    <!-- end generated: NAME -->

and holds exactly what :func:`blocks` renders for NAME from the catalogue, the
claims catalogues, the expectations, the profiles and the mutant catalogue.
``python -m conformance.commands.readme --check README.md`` exits 1 and names
the stale blocks; ``--write`` rewrites them in place.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

_BLOCK = re.compile(
    r"(<!-- begin generated: (?P<name>[\w-]+) \(make docs\) -->\n)(?P<body>.*?)(<!-- end generated: (?P=name) -->)",
    re.S,
)


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def claims_coverage() -> str:
    from conformance.engine.claims import load_catalogues, traceability
    from conformance.engine.registry import discover

    props = discover()
    table = traceability(load_catalogues(props), props)
    keys = ("claims", "checkable", "full", "partial", "none", "not-checkable", "properties")
    rows = [
        [d["document"], *(d["counts"][k] for k in keys), d["counts"]["properties_without_claim"]]
        for d in table["documents"]
    ]
    t = table["totals"]
    rows.append(["all", *(t[k] for k in keys), t["properties_without_claim"]])
    header = [
        "doc",
        "claims",
        "checkable",
        "full",
        "partial",
        "none",
        "not checkable",
        "properties",
        "backing no claim",
    ]
    return _table(header, rows) + (
        f"\n{t['full']} of {t['checkable']} checkable claims are checked in full, {t['partial']} in part, "
        f"{t['none']} not at all.\n"
    )


def divergences() -> str:
    from conformance.engine.expectations import load_expectations

    rows = [[f"`{d.property}`", f"`{d.flax}`", d.status, d.reason.replace("|", "\\|")] for d in load_expectations()]
    return _table(["property", "Flax releases", "expected status", "what the release does"], rows)


def profiles() -> str:
    from conformance.engine.profiles import POOLS, PROFILE_TABLE

    rows = [
        [
            f"`{p.name}`",
            p.examples,
            POOLS[p.pool],
            "derandomized" if p.derandomized else "random",
            "replays earlier failures first" if p.database else "none",
            p.purpose,
        ]
        for p in PROFILE_TABLE
    ]
    return _table(["profile", "examples", "shapes", "inputs", "example database", "for"], rows)


def ranges() -> str:
    """What the pools draw from, axis by axis (kit.pools and document 04's strategies)."""
    from conformance.kit import pools
    from conformance.properties.doc04_cross_layer import strategies as dst

    top = pools.top_quarter
    rows = [
        ["01, 02, 03, 05", "rows, batch", f"1–{pools.MAX_ROWS}", top(pools.MAX_ROWS)],
        ["01, 02, 03, 05", "widths (in, out, square)", f"1–{pools.MAX_WIDTH}", top(pools.MAX_WIDTH)],
        ["04", "batch", f"1–{dst.MAX_BATCH}", top(dst.MAX_BATCH)],
        ["04", "sequence", f"1–{dst.MAX_SEQ}", top(dst.MAX_SEQ)],
        ["04", "heads (dividing d_model)", f"1–{dst.MAX_HEADS}", top(dst.MAX_HEADS)],
        ["04", "d_model", f"1–{dst.MAX_D_MODEL}", top(dst.MAX_D_MODEL)],
        ["04", "d_ff (never d_model or 3 d_model)", f"1–{dst.MAX_D_FF}", top(dst.MAX_D_FF)],
        ["04", "layers", f"1–{dst.MAX_LAYERS}", top(dst.MAX_LAYERS)],
    ]
    real = ", ".join(
        f"L={c.num_layers}, d_model={c.d_model}, {c.num_heads} heads, d_ff={c.d_ff}, {c.seq} tokens"
        for c in dst.REAL_SIZE_CASES.values()
    )
    return _table(["documents", "axis", "range", "every pool reaches at least"], rows) + (
        f"\nEvery pool also holds the value 1 of every axis. The oracle's budget per example: "
        f"{pools.BUDGET:,} multiply-adds for a dense shape, {dst.CASE_BUDGET:,} for a document-04 case. The "
        f"`thorough` profile adds one example per numeric document-04 property at each of: {real}.\n"
    )


def catalogue() -> str:
    from conformance.engine.mutants import discover_conforming, discover_flax_mutants, discover_mutants
    from conformance.engine.registry import discover

    props = discover().values()
    implementation = sum(p.kind == "implementation" for p in props)
    return (
        f"The catalogue holds {len(props)} properties ({implementation} implementation, "
        f"{len(props) - implementation} framework), {len(discover_mutants())} mutants, "
        f"{len(discover_flax_mutants())} Flax mutants and {len(discover_conforming())} conforming implementations "
        f"(the reference and its variants).\n"
    )


BLOCKS: dict[str, Callable[[], str]] = {
    "claims-coverage": claims_coverage,
    "divergences": divergences,
    "profiles": profiles,
    "ranges": ranges,
    "catalogue": catalogue,
}


def render(text: str) -> tuple[str, list[str], list[str]]:
    """``text`` with every generated block rendered anew; the blocks that changed; names with no generator."""
    changed, unknown = [], []

    def one(m: re.Match) -> str:
        name = m.group("name")
        if name not in BLOCKS:
            unknown.append(name)
            return m.group(0)
        body = BLOCKS[name]()
        if body != m.group("body"):
            changed.append(name)
        return m.group(1) + body + m.group(4)

    return _BLOCK.sub(one, text), changed, unknown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.commands.readme", description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 if a generated block is stale")
    mode.add_argument("--write", action="store_true", help="rewrite the generated blocks in place")
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    text = args.path.read_text()
    new, changed, unknown = render(text)
    if unknown:
        print(f"{args.path}: generated blocks with no generator: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if args.write:
        args.path.write_text(new)
        print(f"{args.path}: rewrote {', '.join(changed) or 'nothing (up to date)'}")
        return 0
    if changed:
        print(f"{args.path}: stale generated blocks: {', '.join(changed)}; run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
