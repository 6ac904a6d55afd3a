"""Terminal output with rich: the progress display, the result table, the property list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table


def _console() -> Console:
    probe = Console()
    # Piped output (CI logs) gets a width that fits property ids instead of 80 columns.
    return Console(highlight=False, width=None if probe.is_terminal else 140)


console = _console()

STYLE = {
    "passed": "green",
    "failed": "bold red",
    "error": "bold magenta",
    "timeout": "bold yellow",
    "crashed": "bold red",
    "not_provided": "dim",
    "expected_divergence": "cyan",
    "tampered": "bold white on red",
}


class Progress:
    """A progress bar fed by pytest's per-test reports (works across xdist workers)."""

    def __init__(self, total: int, enabled: bool = True):
        self.total = total
        self.enabled = enabled and console.is_terminal
        self._bar = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[last]}"),
            console=console,
            transient=True,
        )
        self._task = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bar.start()
            self._task = self._bar.add_task("properties", total=self.total, last="")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self._bar.stop()

    def plugin(self) -> Any:
        progress = self

        class _Plugin:
            def pytest_collection_modifyitems(self, items: list) -> None:
                progress._set_total(len(items))

            def pytest_xdist_node_collection_finished(self, node: Any, ids: list) -> None:
                progress._set_total(len(ids))

            def pytest_runtest_logreport(self, report: Any) -> None:
                if report.when == "call" or (report.when == "setup" and not report.passed):
                    progress._advance(report.nodeid.split("::")[-1])

        return _Plugin()

    def _set_total(self, n: int) -> None:
        if self._task is not None:
            self._bar.update(self._task, total=n)

    def _advance(self, name: str) -> None:
        if self._task is not None:
            self._bar.update(self._task, advance=1, last=name)


def _header(report: dict[str, Any], impl_description: str) -> None:
    v = report["versions"]
    console.print(f"[bold]implementation[/] {impl_description}")
    console.print(
        "[bold]versions[/] "
        + "  ".join(f"{k} {v[k]}" for k in ("jax", "jaxlib", "flax", "hypothesis", "numpy", "python") if k in v)
        + f"  [bold]profile[/] {report['profile']}"
        + (f"  [bold]pool seed[/] {report['pool_seed']}" if report.get("pool_seed") is not None else "")
    )
    p = report.get("precision") or {}
    if p:
        how = "stated" if p.get("stated") else "detected"
        console.print(
            f"[bold]backend[/] {p.get('backend', '?')}  [bold]float32 matmuls[/] {p['matmul']} ({how})"
            + (f"  [yellow]emulating {p['emulated']}[/]" if p.get("emulated") else "")
        )
    for impl in report.get("implementations") or []:
        changes = impl.get("config_changes") or {}
        if changes:
            listed = ", ".join(f"{k}: {c['before']} -> {c['after']}" for k, c in changes.items())
            console.print(
                f"[bold yellow]warning[/] importing {impl['name']} changed global JAX configuration: {listed}"
            )


def print_run(report: dict[str, Any], *, impl_description: str, json_path: str | None) -> None:
    _header(report, impl_description)
    table = Table(show_lines=False, header_style="bold")
    for col, just in (
        ("id", "left"),
        ("doc", "center"),
        ("kind", "left"),
        ("status", "left"),
        ("examples", "right"),
        ("seconds", "right"),
    ):
        table.add_column(col, justify=just)
    results = sorted(report["results"], key=lambda r: (r["document"], r["kind"] != "implementation", r["id"]))
    for r in results:
        table.add_row(
            r["id"],
            r["document"],
            "impl" if r["kind"] == "implementation" else "framework",
            f"[{STYLE.get(r['status'], '')}]{r['status']}[/]",
            str(r["examples"]),
            f"{r['seconds']:.2f}",
        )
    console.print(table)
    for r in results:
        if r["status"] in ("failed", "error", "timeout", "crashed", "tampered"):
            console.rule(f"[{STYLE[r['status']]}]{r['status']}[/] {r['id']}")
            console.print(r["message"], markup=False)
    summary = ", ".join(f"{n} {s}" for s, n in report["summary"].items() if n)
    partial = " [bold yellow](partial: the run was interrupted)[/]" if report["partial"] else ""
    console.print(f"[bold]summary[/] {summary or 'nothing ran'} in {report['seconds']:.1f} s{partial}")
    if json_path:
        console.print(f"[bold]report[/] {json_path}")


def properties_table(props: Iterable[Any]) -> None:
    table = Table(header_style="bold")
    for col in ("id", "doc", "kind", "section", "claim"):
        table.add_column(col, overflow="fold")
    n = 0
    for p in props:
        n += 1
        table.add_row(p.id, p.document, p.kind, p.section, p.title)
    console.print(table)
    console.print(f"{n} properties")


def _mutant_table(title: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Table:
    """One row per mutant: name, document, what it changes, the properties that rejected it."""
    table = Table(header_style="bold", title=title)
    for col in columns:
        table.add_column(col, overflow="fold")
    for m in rows:
        killed_by = ", ".join(m["killed_by"]) or "[bold red]survived[/]"
        if m.get("tampered"):  # every verdict of it is `tampered`: it changed the judge, not only failed it
            killed_by = f"[{STYLE['tampered']}]tampered[/] " + killed_by
        table.add_row(m["name"], m["document"], m["defect"], killed_by)
    return table


def print_kill_table(table: dict[str, Any]) -> None:
    console.print(_mutant_table("mutants", ("mutant", "doc", "defect", "killed by"), table["mutants"]))
    console.print(
        _mutant_table(
            "Flax mutants (each patches Flax in a process of its own)",
            ("Flax mutant", "doc", "changed behaviour", "killed by"),
            table.get("flax_mutants", []),
        )
    )
    idle = [p["id"] for p in table["properties"] if not p["kills"] and not p.get("fails_on_flax")]
    if idle:
        console.print(f"[yellow]properties that killed no mutant and fail on no Flax release:[/] {', '.join(idle)}")
    for c in table["conforming"]:
        verdict = (
            "[green]passes[/]"
            if c["passed"]
            else f"[bold red]rejected by {', '.join(c['rejected_by']) or 'nothing ran'}[/]"
        )
        if c.get("tampered"):
            verdict = f"[{STYLE['tampered']}]tampered[/] " + verdict
        console.print(f"conforming {c['name']}: {verdict}")
    s, f = table["score"], table.get("flax_score", {"killed": 0, "total": 0})
    console.print(
        f"[bold]mutation score[/] {s['killed']}/{s['total']} ({100 * s['ratio']:.0f}%), "
        f"Flax mutants {f['killed']}/{f['total']}" + (" [yellow](partial run)[/]" if table["partial"] else "")
    )
