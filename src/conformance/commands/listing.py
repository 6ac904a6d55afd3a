"""``conformance list``: the catalogue, as a table or JSON."""

from __future__ import annotations

import argparse
import json

from conformance.engine.runner import EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from conformance.engine.registry import discover

    props = [p for p in discover().values()
             if (not args.kind or p.kind == args.kind) and (not args.document or p.document == args.document)]
    if args.json:
        print(json.dumps([p.as_dict() for p in props], indent=2))
        return EXIT_OK
    from conformance.commands.console import properties_table

    properties_table(props)
    return EXIT_OK
