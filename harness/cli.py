"""`python -m harness run | list | doctor | docs` (also installed as `pg-sample-harness`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness import interrupts, outputs, reaper, verdict
from harness.catalog import Catalog, load_catalog
from harness.config import Config, add_cli_options, build_config
from harness.docs.command import add_parser as add_docs_parser
from harness.docs.command import cmd_docs
from harness.errors import HarnessError, InputError
from harness.exit_codes import ExitCode
from harness.manifest import Example
from harness.outcome import RunResult, ScenarioResult
from harness.reporting import Written, write_run
from harness.reporting.terminal import case_line, print_summary
from harness.runner import Selection, assemble_run, collect_matrix, with_fixes, now, planned_cases, probe_or_error, wants_probe
from harness.sandbox import after_run
from harness.schedule import default_jobs
from harness.session import HarnessSession
from harness.system_packages import packages_line
from harness.text import plain
from harness.toolchain import probe


EXIT_CODES = ("exit codes: 0 all passed, 1 a case failed, 2 interrupted, 3 internal error, "
              "4 usage or manifest error")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _listed(values: list[str]) -> tuple[str, ...]:
    """--example a,b and --scenario a,b as --via takes them (and each repeatable)."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m harness", description=__doc__, epilog=EXIT_CODES)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the example x scenario matrix and write reports/results.json")
    add_cli_options(run)
    run.add_argument("--example", action="append", default=[], metavar="ID",
                     help="only this example (id, glob like node/* or a language); repeatable or comma-separated")
    run.add_argument("--scenario", action="append", default=[], metavar="NAME",
                     help="only this scenario (name or glob like pool_*); repeatable or comma-separated")
    run.add_argument("-k", dest="keyword", default="", help="only cases whose '<id>::<scenario>' contains this")
    run.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                     help="run up to N cases at once (default: four per core, at most 8; -j 1 runs serially); "
                          "they are admitted within the machine's cores by what each used last time, a case "
                          "that restarts the server runs alone")
    run.add_argument("--json", action="store_true", help="print results.json on stdout instead of the matrix")

    listing = sub.add_parser("list", help="validate every manifest; list examples and scenarios")
    listing.add_argument("--json", action="store_true",
                         help="print them as JSON: ids, slugs, languages, system packages, toolchains, base images")
    sub.add_parser("doctor", help="which toolchains are present, and how to install what is missing")
    add_docs_parser(sub)
    return parser


def cmd_list(catalog: Catalog, config: Config, console: Console, as_json: bool = False) -> int:
    if as_json:
        from harness.discovery_json import document
        print(json.dumps(document(catalog.spec, catalog.discovery, config.paths), ensure_ascii=False, indent=2))
        return ExitCode.USAGE_ERROR if catalog.discovery.errors else ExitCode.OK
    for error in catalog.discovery.errors:
        console.print(f"[bold red]error:[/] {plain(error.render())}", highlight=False)
    for warning in catalog.discovery.warnings:
        console.print(f"[yellow]warning:[/] {plain(warning)}", highlight=False)
    console.print("[bold]scenarios[/]")
    for scenario in catalog.spec.scenarios.values():
        console.print(f"  {scenario.name:<26} [dim]{scenario.group:<5}[/] {scenario.summary}", highlight=False)
    console.print("[bold]examples[/]")
    for example in catalog.examples:
        console.print(f"  {example.id:<22} {plain(f'{example.driver:<26}')} {plain(example.title)}", highlight=False)
        for name in catalog.spec.names:
            if name in example.applies:
                mark = "[cyan]known failure[/]" if name in example.known_failures else "[green]applies[/]"
            elif name in example.not_applicable:
                mark = f"[dim]n/a: {plain(example.not_applicable[name])}[/]"
            else:
                mark = "[yellow]not declared (will be skipped)[/]"
            console.print(f"      {name:<26} {mark}", highlight=False)
    return ExitCode.USAGE_ERROR if catalog.discovery.errors else ExitCode.OK


def cmd_doctor(config: Config, catalog: Catalog, console: Console) -> int:
    from harness.server.native import find_bindir, server_version_of
    missing_any = False
    try:
        bindir = find_bindir(config.pg_bindir)
        console.print(f"[green]✔[/] PostgreSQL server {server_version_of(bindir)} ({bindir})", highlight=False)
    except HarnessError as exc:
        missing_any = True
        console.print(f"[red]✘[/] {exc}", highlight=False)
    from harness.pooler import BASE_TOPOLOGIES, VERSIONS
    from harness.pooler.process import pgbouncer_version
    from harness.pooler.versions import find_pgbouncer
    for version in VERSIONS:   # only the pooled topologies (--via pgbouncer-*) need them
        labels = ", ".join(t.label for t in BASE_TOPOLOGIES if t.pooled and t.version == version)
        try:
            binary = find_pgbouncer(version)
            console.print(f"[green]✔[/] PgBouncer {pgbouncer_version(binary)} ({binary}; for --via {labels})",
                          highlight=False)
        except (HarnessError, OSError) as exc:
            lines = str(exc).splitlines()
            console.print(f"[yellow]-[/] {lines[0]} (only --via {labels} needs it; {lines[-1].strip()})", highlight=False)
    for example in catalog.examples:
        statuses = [probe(r) for r in example.requires]
        ok = all(s.found for s in statuses)
        missing_any |= not ok
        console.print(f"{'[green]✔[/]' if ok else '[red]✘[/]'} [bold]{example.id}[/]", highlight=False)
        for status in statuses:
            colour = "green" if status.found else "red"
            console.print(f"    [{colour}]{plain(status.line)}[/]", highlight=False)
        console.print(f"    [dim]{plain(packages_line(example))}[/]", highlight=False)
    for error in catalog.discovery.errors:
        console.print(f"[bold red]error:[/] {plain(error.render())}", highlight=False)
    return 1 if missing_any or catalog.discovery.errors else 0


def cmd_run(args: argparse.Namespace, config: Config, console: Console) -> int:
    # A filter that matches nothing is refused before anything is made; then --out is checked
    # (and locked against a second run) before anything runs.
    Selection(_listed(args.example), _listed(args.scenario), args.keyword).check(load_catalog(config.paths))
    out = outputs.resolve(config.results_path)
    with outputs.OutputLock(out.parent):
        return _run(args, config, out, console)


def _run(args: argparse.Namespace, config: Config, out: Path, console: Console) -> int:
    started = now()
    session = HarnessSession(config)
    for warning in session.catalog.discovery.warnings:
        console.print(f"[yellow]warning:[/] {plain(warning)}", highlight=False)
    selection = Selection(_listed(args.example), _listed(args.scenario), args.keyword)
    plan = planned_cases(session.catalog, selection)
    if not plan and not session.catalog.discovery.errors:
        console.print("[yellow]no case matches the filters[/]")
        return ExitCode.USAGE_ERROR
    total = sum(len(names) * len(with_fixes(session, example)) for example, names in plan)
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
                progress.console.print(case_line(case_id, result.outcome.value, result.seconds, result.message),
                                       highlight=False)

        matrix = collect_matrix(session, plan, on_case=on_case, on_build=on_build, jobs=max(1, args.jobs or default_jobs()))
        probe_result, probe_error = None, ""
        if wants_probe(session.catalog, matrix.plan) and not matrix.errors:
            progress.update(task, description="lifecycle probe")
            probe_result, probe_error = probe_or_error(session, matrix.link_probe)
        run = assemble_run(session, matrix.plan, matrix.results, started=started, probe=probe_result,
                           errors=matrix.errors + ([probe_error] if probe_error else []))
        if args.keep:
            progress.stop()
            code = _report(run, args, config, out, session, console)
            _wait_while_kept(session, console)
            return code
    return _report(run, args, config, out, session, console)


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


def _report(run: RunResult, args: argparse.Namespace, config: Config, out: Path, session: HarnessSession,
            console: Console) -> int:
    if config.update_known_failures:
        from harness.known_failures import update_known_failures
        for change in update_known_failures(run, session.examples):
            console.print(f"[cyan]updated[/] {plain(change)}", highlight=False)
    written: Written = write_run(run, out)
    if args.json:
        print(json.dumps(written.run_json, ensure_ascii=False, indent=2))
    else:
        print_summary(written.run_json, console)
        console.print(f"results: {written.results}", highlight=False)
        if not written.error:
            console.print(f"report: {written.index} (junit/, badges/ beside it)", highlight=False)
    if session.server is None:  # closed: say what of the run is left, which should be nothing
        console.print(plain(after_run(session.executor, session.run_id, config.backend)), highlight=False)
    if session.tamper_record.summary():
        console.print(plain(session.tamper_record.summary()), highlight=False)
    if written.error:
        console.print(f"[bold red]error:[/] the reports beside {written.results} could not be written: "
                      f"{plain(written.error)}", highlight=False)
        return ExitCode.INTERNAL_ERROR
    return verdict.exit_code(run.ok, len(run.errors), len(session.catalog.discovery.errors))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(stderr=bool(getattr(args, "json", False)))
    if not console.is_terminal:
        # CI logs and pipes have no width: do not squeeze the matrix into 80 columns.
        console.width = max(console.width, 140)
    interrupts.install()  # SIGINT, SIGTERM and SIGHUP all end the run the same way
    try:
        config = build_config(vars(args))
        if args.command == "list":
            return cmd_list(load_catalog(config.paths), config, console, args.json)
        if args.command == "doctor":
            return cmd_doctor(config, load_catalog(config.paths), console)
        if args.command == "docs":
            return cmd_docs(args, lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True))
        return cmd_run(args, config, console)
    except InputError as exc:
        # soft_wrap: a long path stays on its line, to be copied whole.
        console.print(f"[bold red]error:[/] {plain(exc.render())}", highlight=False, soft_wrap=True)
        return ExitCode.USAGE_ERROR
    except HarnessError as exc:
        console.print(f"[bold red]error:[/] {plain(exc)}", highlight=False, soft_wrap=True)
        return ExitCode.INTERNAL_ERROR
    except KeyboardInterrupt:
        interrupts.settled()
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
