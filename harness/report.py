"""What a run leaves behind for people and machines: the matrix on the terminal and results.json."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness import text
from harness.outcome import Outcome, RunResult
from harness.outputs import write_atomically
from harness.probe import probe_rows

STYLES = {
    Outcome.PASSED: "green", Outcome.FAILED: "bold red", Outcome.SKIPPED: "yellow",
    Outcome.NOT_APPLICABLE: "dim", Outcome.XFAILED: "cyan", Outcome.XPASSED: "bold magenta",
}
SHORT = {
    Outcome.PASSED: "✔", Outcome.FAILED: "✘ FAIL", Outcome.SKIPPED: "- skip",
    Outcome.NOT_APPLICABLE: "· n/a", Outcome.XFAILED: "✔ xfail", Outcome.XPASSED: "✘ XPASS",
}


def write_results(run: RunResult, path: Path) -> Path:
    write_atomically(path, json.dumps(run.to_json(), indent=2, ensure_ascii=False) + "\n")
    return path


def matrix_table(run: RunResult, scenario_names: list[str]) -> Table:
    table = Table(title=f"PostgreSQL {run.postgres} · backend {run.backend}", show_lines=False)
    table.add_column("scenario", no_wrap=True)
    for example in run.examples:
        language, name = example.id.split("/", 1)
        table.add_column(f"{language}\n{name}", justify="center", no_wrap=True)
    present = {s.name for e in run.examples for s in e.scenarios}
    for name in [n for n in scenario_names if n in present]:
        cells: list[Text | str] = [name]
        for example in run.examples:
            case = next((s for s in example.scenarios if s.name == name), None)
            cells.append(Text(SHORT[case.outcome], style=STYLES[case.outcome]) if case else "")
        table.add_row(*cells)
    return table


def _ms(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "–"


def lifecycle_table(run: RunResult) -> Table | None:
    """Connect time per driver (p50/p95, plain and TLS) beside the probe's steps and the page's claim."""
    drivers = run.connect_figures()
    probe = run.lifecycle_probe
    if not drivers and not probe:
        return None
    claim = (probe or {}).get("page_claim_ms", {"local": [20, 50], "remote_ssl": [100, 300]})
    table = Table(title=f"connect time, ms (the page: {claim['local'][0]}-{claim['local'][1]} local, "
                        f"{claim['remote_ssl'][0]}-{claim['remote_ssl'][1]} remote with SSL)")
    for column in ("", "connect p50", "connect p95", "TLS p50", "TLS p95", "query p50", "steps (p50, TLS)"):
        table.add_column(column, justify="left" if not column or column.startswith("steps") else "right")
    for row in probe_rows(probe):
        plain, tls = row.figures["plain"], row.figures["tls"]
        table.add_row(row.label, _ms(plain["connect_p50_ms"]), _ms(plain["connect_p95_ms"]), _ms(tls["connect_p50_ms"]),
                      _ms(tls["connect_p95_ms"]), _ms(plain["query_p50_ms"]),
                      " ".join(f"{name} {_ms(values['p50'])}" for name, values in row.tls_steps.items()))
    for example_id, modes in sorted(drivers.items()):
        plain, tls = modes.get("plain", {}), modes.get("tls", {})
        pooled = " (pool)" if plain.get("pooled") or tls.get("pooled") else ""
        table.add_row(example_id, _ms(plain.get("connect_p50_ms")), _ms(plain.get("connect_p95_ms")),
                      _ms(tls.get("connect_p50_ms")), _ms(tls.get("connect_p95_ms")),
                      _ms(plain.get("query_p50_ms")) + pooled, "")
    return table


def print_summary(run: RunResult, scenario_names: list[str], console: Console) -> None:
    for error in run.errors:
        console.print(f"[bold red]error:[/] {text.plain(error)}", highlight=False)
    if run.examples:
        console.print(matrix_table(run, scenario_names))
    lifecycle = lifecycle_table(run)
    if lifecycle is not None:
        console.print(lifecycle)
    for example in run.examples:
        for case in example.scenarios:
            if case.outcome in (Outcome.FAILED, Outcome.XPASSED):
                console.rule(f"[bold red]{example.id}::{case.name}", align="left")
                console.print(text.printable(case.failure.render() if case.failure else case.message), highlight=False,
                              markup=False)
            elif case.outcome is Outcome.SKIPPED:
                console.print(f"[yellow]skipped[/] {example.id}::{case.name}: {text.plain(case.message)}", highlight=False)
    counts: dict[Outcome, int] = {}
    for example in run.examples:
        for case in example.scenarios:
            counts[case.outcome] = counts.get(case.outcome, 0) + 1
    summary = ", ".join(f"{counts.get(o, 0)} {o.value}" for o in Outcome if counts.get(o))
    style = "bold green" if run.ok else "bold red"
    console.print(f"[{style}]{'PASSED' if run.ok else 'FAILED'}[/] {summary or 'no cases'} in {run.seconds:.1f} s",
                  highlight=False)
