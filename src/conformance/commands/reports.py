"""A finished run's report, shown and written: the terminal, the CSV grade book, the HTML page, and the exit status.

Shared by ``conformance run`` and ``conformance merge``; the JSON report itself is
written by whoever produced it.
"""

from __future__ import annotations

import argparse
from typing import Any

from conformance.engine.batch.merge import CANNOT_LOAD, NOTHING_RAN
from conformance.engine.runner import EXIT_FAILED, report_exit_code


def exit_code(report: dict[str, Any]) -> int:
    """As a single run's, over every implementation; one that could not load or ran nothing does not pass."""
    code = report_exit_code(report)
    if code == 0 and any(d.get("outcome") in (CANNOT_LOAD, NOTHING_RAN) for d in report["implementations"]):
        return EXIT_FAILED
    return code


def present(report: dict[str, Any], args: argparse.Namespace) -> int:
    """Print the report, write the CSV and HTML files asked for, and return the exit status."""
    from conformance.commands.console import print_run
    from conformance.commands.grid import print_grid
    from conformance.engine.files import write_text_atomic

    if getattr(args, "csv", None):
        from conformance.commands.gradebook import gradebook_csv

        write_text_atomic(args.csv, gradebook_csv(report))
    if getattr(args, "html", None):
        from conformance.commands.impl_page import html

        write_text_atomic(args.html, html(report))
    if getattr(args, "repro_dir", None):
        from conformance.commands.repro import write_repro_scripts

        write_repro_scripts(report, args.repro_dir)
    written = [p for p in (args.json, getattr(args, "csv", None), getattr(args, "html", None)) if p]
    if report["implementation"] is not None:
        one = report["implementation"]
        print_run(report, impl_description=f"{one['target']} ({one.get('path')})", json_path=", ".join(written) or None)
    else:
        print_grid(report, written=written)
    return exit_code(report)
