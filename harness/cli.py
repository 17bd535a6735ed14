"""`python -m harness run | list | doctor` (also installed as `pg-sample-harness`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness import exit_codes, interrupts, outputs, reaper
from harness.errors import HarnessError, InputError
from harness.exit_codes import ExitCode
from harness.manifest import Example
from harness.outcome import Outcome, ScenarioResult
from harness.paths import ProjectPaths
from harness.report import STYLES, SHORT, print_summary, write_results
from harness.reporting import write_reports
from harness.runner import Selection, add_lifecycle_probe, planned_cases, run_matrix, wants_probe
from harness.sandbox import after_run
from harness.session import HarnessSession, RunOptions
from harness.text import plain
from harness.toolchain import probe


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m harness", description=__doc__,
                     epilog="exit codes: 0 all passed, 1 a case failed, 2 interrupted, 3 internal error, "
                            "4 usage or manifest error")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the example x scenario matrix and write reports/results.json")
    run.add_argument("--backend", choices=["native", "docker"], default="native")
    run.add_argument("--example", action="append", default=[], metavar="ID",
                     help="only this example (id, glob like node/* or a language); repeatable")
    run.add_argument("--scenario", action="append", default=[], metavar="NAME",
                     help="only this scenario (name or glob like pool_*); repeatable")
    run.add_argument("-k", dest="keyword", default="", help="only cases whose '<id>::<scenario>' contains this")
    run.add_argument("--out", default=None, metavar="PATH",
                     help="a file for results.json (the reports go beside it), or a directory for both "
                          "(default: reports/results.json); checked before the run")
    run.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                     help="run N examples at once (each example's own cases stay in order)")
    run.add_argument("--rebuild", action="store_true", help="build every example even if its sources did not change")
    run.add_argument("--remote-rtt-ms", type=float, default=RunOptions.remote_rtt_ms, metavar="MS",
                     help="the lifecycle probe also connects over a simulated link of this round-trip time "
                          f"(default {RunOptions.remote_rtt_ms:g}; 0 turns it off)")
    run.add_argument("--keep", action="store_true",
                     help="after the run, keep the server and every case database up until Ctrl-C, and say how to connect")
    run.add_argument("--json", action="store_true", help="print results.json on stdout instead of the matrix")
    run.add_argument("--update-known-failures", action="store_true",
                     help="remove known_failures entries whose case passed (xpassed) from the manifests")

    sub.add_parser("list", help="validate every manifest; list examples and scenarios")
    sub.add_parser("doctor", help="which toolchains are present, and how to install what is missing")
    return parser


def cmd_list(console: Console) -> int:
    session = HarnessSession()
    for error in session.discovery.errors:
        console.print(f"[bold red]error:[/] {plain(error.render())}", highlight=False)
    for warning in session.discovery.warnings:
        console.print(f"[yellow]warning:[/] {plain(warning)}", highlight=False)
    console.print("[bold]scenarios[/]")
    for scenario in session.spec.scenarios.values():
        console.print(f"  {scenario.name:<26} [dim]{scenario.group:<5}[/] {scenario.summary}", highlight=False)
    console.print("[bold]examples[/]")
    for example in session.examples:
        console.print(f"  {example.id:<22} {plain(f'{example.driver:<26}')} {plain(example.title)}", highlight=False)
        for name in session.spec.names:
            if name in example.applies:
                mark = "[cyan]known failure[/]" if name in example.known_failures else "[green]applies[/]"
            elif name in example.not_applicable:
                mark = f"[dim]n/a: {plain(example.not_applicable[name])}[/]"
            else:
                mark = "[yellow]not declared (will be skipped)[/]"
            console.print(f"      {name:<26} {mark}", highlight=False)
    return ExitCode.USAGE_ERROR if session.discovery.errors else ExitCode.OK


def cmd_doctor(console: Console) -> int:
    session = HarnessSession()
    missing_any = False
    from harness.server.native import find_bindir, server_version_of
    try:
        bindir = find_bindir()
        console.print(f"[green]✔[/] PostgreSQL server {server_version_of(bindir)} ({bindir})", highlight=False)
    except HarnessError as exc:
        missing_any = True
        console.print(f"[red]✘[/] {exc}", highlight=False)
    for example in session.examples:
        statuses = [probe(r) for r in example.requires]
        ok = all(s.found for s in statuses)
        missing_any |= not ok
        console.print(f"{'[green]✔[/]' if ok else '[red]✘[/]'} [bold]{example.id}[/]", highlight=False)
        for status in statuses:
            colour = "green" if status.found else "red"
            console.print(f"    [{colour}]{plain(status.line)}[/]", highlight=False)
    for error in session.discovery.errors:
        console.print(f"[bold red]error:[/] {plain(error.render())}", highlight=False)
    return 1 if missing_any or session.discovery.errors else 0


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    out = outputs.resolve(args.out or (ProjectPaths.default().reports / "results.json"))
    with outputs.OutputLock(out.parent):
        return _run(args, out, console)


def _run(args: argparse.Namespace, out: Path, console: Console) -> int:
    session = HarnessSession(RunOptions(backend=args.backend, rebuild=args.rebuild, keep_databases=args.keep,
                                        remote_rtt_ms=args.remote_rtt_ms))
    for warning in session.discovery.warnings:
        console.print(f"[yellow]warning:[/] {plain(warning)}", highlight=False)
    selection = Selection(tuple(args.example), tuple(args.scenario), args.keyword)
    plan = planned_cases(session, selection)
    if not plan and not session.discovery.errors:
        console.print("[yellow]no case matches the filters[/]")
        return ExitCode.USAGE_ERROR
    total = sum(len(names) for _, names in plan)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=True, disable=args.json)
    with progress, session:
        task = progress.add_task("starting PostgreSQL", total=total)

        def on_build(example: Example, phase: str) -> None:
            if phase == "start":
                progress.update(task, description=f"building {example.id}")

        def on_case(example: Example, name: str, result: ScenarioResult | None) -> None:
            case_id = f"{example.id}::{name}"
            if result is None:
                progress.update(task, description=f"running {case_id}")
                return
            progress.advance(task)
            if not args.json:
                progress.console.print(
                    f"  [{STYLES[result.outcome]}]{SHORT[result.outcome]:<8}[/] {case_id} "
                    f"[dim]{result.seconds:.2f} s[/]" + (f"  {plain(result.message[:100])}" if result.outcome.is_bad else ""),
                    highlight=False)

        run = run_matrix(session, plan, on_case=on_case, on_build=on_build, jobs=max(1, args.jobs))
        if wants_probe(session, plan) and not run.errors:
            progress.update(task, description="lifecycle probe")
            add_lifecycle_probe(session, run)
        if args.keep:
            progress.stop()
            code = _report(run, out, args, session, console)
            _wait_while_kept(session, console)
            return code
    return _report(run, out, args, session, console)


def _wait_while_kept(session: HarnessSession, console: Console) -> None:
    """--keep: the server stays up until Ctrl-C, then goes the usual way (nothing is left)."""
    server = session.server
    if server is None:
        return
    console.print(f"[bold]--keep:[/] the server is up. Connect with:\n  {plain(server.connect_hint())}\n"
                  "Each case's database is kept: db_<language>_<name>_<scenario> (\\l lists them).\n"
                  "Press Ctrl-C to stop it and delete everything.", highlight=False, soft_wrap=True)
    try:
        while server.is_alive():
            time.sleep(1)
    except KeyboardInterrupt:
        pass


def _report(run: Any, out: Path, args: argparse.Namespace, session: HarnessSession, console: Console) -> int:
    if args.update_known_failures:
        from harness.known_failures import update_known_failures
        for change in update_known_failures(run, session.examples):
            console.print(f"[cyan]updated[/] {plain(change)}", highlight=False)
        # The lists now match the run: what was xpassed is simply passed.
        for example in run.examples:
            for case in example.scenarios:
                if case.outcome is Outcome.XPASSED:
                    case.outcome, case.failure = Outcome.PASSED, None
                    case.message = "passed (removed from known_failures)"
            example.settle()
    write_results(run, out)
    try:
        write_reports(run.to_json(), out.parent)
        reports_error = ""
    except Exception as exc:  # noqa: BLE001 - results.json is written; say what the reports lack
        reports_error = f"{type(exc).__name__}: {exc}"
    if args.json:
        print(json.dumps(run.to_json(), ensure_ascii=False, indent=2))
    else:
        print_summary(run, session.spec.names, console)
        console.print(f"results: {out}", highlight=False)
        if not reports_error:
            console.print(f"report: {out.parent / 'index.html'} (junit/, badges/ beside it)", highlight=False)
    if session.server is None:  # closed: say what of the run is left, which should be nothing
        console.print(plain(after_run(session.executor, session.run_id, session.options.backend)), highlight=False)
    if reports_error:
        console.print(f"[bold red]error:[/] the reports beside {out} could not be written: {plain(reports_error)}",
                      highlight=False)
        return ExitCode.INTERNAL_ERROR
    return exit_codes.for_run(run, len(session.discovery.errors))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(stderr=bool(getattr(args, "json", False)))
    if not console.is_terminal:
        # CI logs and pipes have no width: do not squeeze the matrix into 80 columns.
        console.width = max(console.width, 140)
    interrupts.install()
    try:
        if args.command == "list":
            return cmd_list(console)
        if args.command == "doctor":
            return cmd_doctor(console)
        return cmd_run(args, console)
    except InputError as exc:
        # soft_wrap: a long path stays on its line, to be copied whole.
        console.print(f"[bold red]error:[/] {plain(exc.render())}", highlight=False, soft_wrap=True)
        return ExitCode.USAGE_ERROR
    except HarnessError as exc:
        console.print(f"[bold red]error:[/] {plain(exc)}", highlight=False, soft_wrap=True)
        return ExitCode.INTERNAL_ERROR
    except KeyboardInterrupt:
        left = reaper.left_behind()
        if left:  # only what is true: the next run reaps these (their owner will be dead)
            console.print(f"[yellow]interrupted: clean-up did not finish; left behind: {plain(', '.join(map(str, left)))} "
                          "(the next run removes them)[/]", highlight=False)
        else:
            console.print("[yellow]interrupted: the server and every process of the run were stopped[/]")
        return ExitCode.INTERRUPTED
    except Exception:  # noqa: BLE001 - a bug in the harness: say so, with the traceback, as exit code 3
        console.print_exception()
        console.print("[bold red]internal error[/] (exit code 3): please report it with the traceback above")
        return ExitCode.INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
