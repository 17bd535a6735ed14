"""The run on the terminal: the matrix, the connect times, the stories' one-liners and every
failure, rendered from the rows of harness.reporting.view (the same rows as the page)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.pooler import DIRECT, case_key
from harness.text import plain, printable
from harness.reporting.pool_exhaustion_view import exhaustion_stories, one_line
from harness.reporting.cutover_view import cutover_rows
from harness.reporting.statement_view import pool_sizing_runs, story_lines
from harness.reporting.view import (BAD, SKIPPED, XFAILED, connect_rows, failed_cases, known_failure_line, look,
                                    matrix_rows, ms, outcome_counts, page_claims, run_standing,
                                    run_topologies)


def case_line(case_id: str, outcome: str, seconds: float, message: str) -> Text:
    """The progress line of one finished case."""
    shown = look(outcome)
    text = Text.assemble((f"  {shown.short:<8}", shown.style), f" {case_id} ", (f"{seconds:.2f} s", "dim"))
    if outcome in BAD or outcome == XFAILED:   # a failure's summary, an xfail's reason
        text.append(f"  {printable(message[:100])}")
    return text


def matrix_table(run: dict[str, Any], topology: str = "direct") -> Table:
    """One topology's matrix: a scenario per row, an example per column."""
    where = "" if topology == "direct" else f" · {topology}"
    title = f"PostgreSQL {run.get('postgres')} · backend {run.get('backend')}{where}"
    table = Table(title=title, show_lines=False, min_width=len(title))   # a title on one line
    table.add_column("scenario", no_wrap=True)
    for example in run.get("examples", []):
        language, name = example["id"].split("/", 1)
        table.add_column(f"{language}\n{name}", justify="center", no_wrap=True)
    for row in matrix_rows(run, topology):
        cells: list[Text | str] = [row.scenario]
        for case in row.cases:
            shown = look(case.get("outcome", "")) if case else None
            cells.append(Text(shown.short, style=shown.style) if shown else "")
        table.add_row(*cells)
    return table


def lifecycle_table(run: dict[str, Any]) -> Table | None:
    """Connect time per driver (p50/p95, plain and TLS) beside the probe's steps and the page's claim."""
    rows = connect_rows(run)
    if not rows:
        return None
    claim = page_claims(run)
    table = Table(title=f"connect time, ms (the page: {claim['local'][0]}-{claim['local'][1]} local, "
                        f"{claim['remote_ssl'][0]}-{claim['remote_ssl'][1]} remote with SSL)")
    for column in ("", "connect p50", "connect p95", "TLS p50", "TLS p95", "query p50", "steps (p50, TLS)"):
        table.add_column(column, justify="left" if not column or column.startswith("steps") else "right")
    for row in rows:
        table.add_row(row.label, ms(row.plain.get("connect_p50_ms")), ms(row.plain.get("connect_p95_ms")),
                      ms(row.tls.get("connect_p50_ms")), ms(row.tls.get("connect_p95_ms")),
                      ms(row.plain.get("query_p50_ms")) + (" (pool)" if row.pooled else ""),
                      " ".join(f"{name} {ms(values['p50'])}" for name, values in row.tls_steps.items()))
    return table


def print_summary(run: dict[str, Any], console: Console) -> None:
    for error in run.get("errors", []):
        console.print(f"[bold red]error:[/] {plain(error)}", highlight=False)
    # One matrix per topology the run went through (a run behind PgBouncer alone has no direct one).
    for topology in run_topologies(run) if run.get("examples") else ():
        console.print(matrix_table(run, topology))
    lifecycle = lifecycle_table(run)
    if lifecycle is not None:
        console.print(lifecycle)
    for line in story_lines(run):
        console.print(f"[bold]N+1 story[/] {line}", highlight=False)
    for example_id, sizing in pool_sizing_runs(run):
        console.print(f"[bold]pool sizing[/] {example_id}: {sizing['cores']} cores, formula (2 × cores) + "
                      f"{sizing['spindles']} = {sizing['formula']}; {sizing['verdict']}", highlight=False)
    for story in exhaustion_stories(run):
        console.print(f"[bold]pool exhaustion story[/] {story.example}: {one_line(story)}", highlight=False)
    for row in cutover_rows(run):
        console.print(f"[bold]cutover {'limit' if row.is_limit else 'story'}[/] {escape(row.line())}", highlight=False)
    for example, case in failed_cases(run):
        console.rule(f"[bold red]{example['id']}::{case['name']}", align="left")
        console.print(printable(case.get("details") or case.get("message", "")), highlight=False, markup=False)
    for example, case in failed_cases(run, with_known=True):
        if case.get("outcome") == XFAILED:
            key = case_key(case["name"], case.get("topology", DIRECT))
            console.print(f"[cyan]xfail[/] {example['id']}::{key}: "
                          f"{plain(known_failure_line(case) or case.get('message', ''))}", highlight=False)
    for example in run.get("examples", []):
        for case in example.get("scenarios", []):
            if case.get("outcome") == SKIPPED:
                console.print(f"[yellow]skipped[/] {example['id']}::{case['name']}: {plain(case.get('message', ''))}",
                              highlight=False)
    counts = outcome_counts(run)
    summary = ", ".join(f"{counts[o]} {o}" for o in ("passed", "failed", "skipped", "not_applicable", "xfailed",
                                                      "xpassed") if counts.get(o))
    ok = run_standing(run).ok
    style = "bold green" if ok else "bold red"
    console.print(f"[{style}]{'PASSED' if ok else 'FAILED'}[/] {summary or 'no cases'} in "
                  f"{float(run.get('seconds') or 0):.1f} s", highlight=False)
