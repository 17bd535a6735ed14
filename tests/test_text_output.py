"""Text from examples is shown as text: terminal escape sequences escaped, Rich markup and a
regex's brackets printed as written (hostile/escapes writes both to stderr)."""

from __future__ import annotations

import io

from rich.console import Console

from harness.outcome import ExampleResult, RunResult
from harness.reporting.terminal import print_summary
from harness.text import plain, printable
from tests.support import BadRun


def test_escape_sequences_and_markup_from_an_example_are_shown_as_text(bad: BadRun) -> None:
    result = bad.case("hostile/escapes", "connect_now")
    assert result.failure is not None
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\\x1b[2J\\x1b]0;pwned\\x07[bold red]not markup[/]" in result.stderr
    example = ExampleResult("hostile/escapes", "hostile", "psycopg 3", scenarios=[result])
    example.settle()
    run = RunResult(backend="native", postgres="15", examples=[example],
                    errors=["x/markup: '[/bold]' is not a known key; regex ^[a-z]+$ \\[kept]"])
    out = io.StringIO()
    print_summary(run.to_json(), Console(file=out, width=200, force_terminal=True))
    shown = out.getvalue()
    assert "\x1b[2J" not in shown and "\x1b]0;" not in shown  # Rich's own colours are fine
    assert "[bold red]not markup[/]" in shown and "regex: ^[a-z]+$ and [/]" in shown
    assert "'[/bold]' is not a known key; regex ^[a-z]+$ \\[kept]" in shown


def test_printable_and_plain() -> None:
    assert printable("a\x1b[31mb\rc\td\n") == "a\\x1b[31mb\\rc\td\n"
    console = Console(file=io.StringIO(), width=200)
    console.print(plain("[bold]x[/] \\[y] \x9b"))
    assert console.file.getvalue() == "[bold]x[/] \\[y] \\x9b\n"  # type: ignore[attr-defined]


def test_a_run_behind_the_pooler_alone_prints_a_matrix_per_topology() -> None:
    """A run with --via pgbouncer-transaction only has no direct case: its matrix is not empty."""
    cases = [{"name": name, "topology": topology, "outcome": outcome}
             for name, outcome in (("param_query", "passed"), ("session_set", "xfailed"))
             for topology in ("pgbouncer-transaction", "pgbouncer-1.24-transaction")]
    run = {"backend": "native", "postgres": "15", "examples": [
        {"id": "java/hikaricp", "driver": "pgjdbc", "outcome": "passed", "scenarios": cases}]}
    out = io.StringIO()
    print_summary(run, Console(file=out, width=200))
    shown = out.getvalue()
    assert "backend native · pgbouncer-transaction\n" in shown and "backend native · pgbouncer-1.24-transaction\n" in shown
    assert shown.count("│ param_query") == 2 and shown.count("│ session_set") == 2
    assert "backend native\n" not in shown   # no empty direct matrix
