"""``conformance list``: the catalogue, as a table or JSON."""

from __future__ import annotations

import argparse
import json

from conformance.engine.runner import EXIT_OK, UsageError


def cmd_list(args: argparse.Namespace) -> int:
    from conformance.engine.claims import CatalogueError, claims_by_property, load_catalogues
    from conformance.engine.mutants import proving_mutants
    from conformance.engine.registry import discover

    registry = discover()
    props = [
        p
        for p in registry.values()
        if (not args.kind or p.kind == args.kind) and (not args.document or p.document == args.document)
    ]
    if args.json:
        try:  # which claims each property checks: the catalogue owns that mapping
            claims = claims_by_property(load_catalogues(registry))
        except CatalogueError as exc:
            raise UsageError(f"malformed claims catalogue: {exc}") from None
        mutants = proving_mutants()
        rows = [{**p.as_dict(), "claims": claims.get(p.id, []), "mutants": mutants.get(p.id, [])} for p in props]
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    from conformance.commands.console import properties_table

    properties_table(props)
    return EXIT_OK
