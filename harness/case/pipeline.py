"""One case from start to finish: does it run at all -> its build -> its database and check ->
its environment -> the process and its protocol -> observation -> judgement."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

import psycopg

from harness.admin_connections import admin_connection
from harness.case.context import CaseContext, Observation
from harness.case.controls import LiveControls
from harness.case.environment import case_environment, reproduce_command
from harness.case.judgement import Finding, judge
from harness.case.protocol import verify
from harness.credentials import mask_all
from harness.manifest import Example
from harness.messages import kept_stderr, stderr_excerpt
from harness.observe import ActivitySampler, ServerLog, wait_backends_gone
from harness.outcome import ScenarioResult
from harness.process import run_process
from harness.scenarios import REGISTRY, ScenarioCheck
from harness.server.base import Admin
from harness.session import HarnessSession
from harness.spec import Scenario
from harness.statements import read_statement_stats, summary_lines


def run_case(session: HarnessSession, example: Example, scenario_name: str, lane: int = 0) -> ScenarioResult:
    """lane: which of the example's roles the case logs in as (harness.schedule)."""
    start = time.monotonic()
    finding = find(session, example, session.spec.scenarios[scenario_name], lane)
    if finding.not_applicable is None and finding.undeclared is None:
        finding = replace(finding, seconds=time.monotonic() - start)
    return mask_all(judge(example, finding, prune_known_failures=session.config.update_known_failures),
                    session.credentials)


def before_run(session: HarnessSession, example: Example, name: str) -> Finding | None:
    """A case that does not run: not applicable, or not declared by the example."""
    if name in example.not_applicable:
        return Finding(name, not_applicable=example.not_applicable[name])
    if name not in example.applies:
        manifest = example.manifest.relative_to(session.config.paths.examples.parent)
        return Finding(name, undeclared=f"not declared in {manifest}: "
                                        "add it under scenarios.applies or scenarios.not_applicable")
    return None


def find(session: HarnessSession, example: Example, scenario: Scenario, lane: int = 0) -> Finding:
    skipped = before_run(session, example, scenario.name)
    if skipped is not None:
        return skipped
    reproduce = reproduce_command(session.config.backend, example, scenario.name)
    session.prepare_example(example)
    if example.id in session.missing:
        lines = [status.line for status in session.missing[example.id]]
        return Finding(scenario.name, reproduce=reproduce, problems=(
            "toolchain missing: " + "; ".join(lines),
            "the example cannot be built or run on this machine until these are installed",
            "`python -m harness doctor` lists every example's tools"))
    build = session.builds[example.id]
    if not build.ok:
        return Finding(scenario.name, reproduce=reproduce, stderr_tail=build.log_tail(),
                       problems=(f"build failed: {build.message}", f"build log: {build.log_path}"))
    session.start()
    check_class = REGISTRY.get(scenario.name)
    if check_class is None:
        return Finding(scenario.name, reproduce=reproduce, problems=(
            f"the harness has no check for scenario {scenario.name!r}", "add a ScenarioCheck for it in harness/scenarios/"))
    with session.gate.enter(check_class.exclusive):
        return replace(run_on_server(session, example, scenario, check_class, lane), reproduce=reproduce)


def run_on_server(session: HarnessSession, example: Example, scenario: Scenario,
                  check_class: type[ScenarioCheck], lane: int = 0) -> Finding:
    session.ensure_server_alive()
    server, janitor, server_log = session.server, session.janitor, session.server_log
    assert server is not None and janitor is not None and server_log is not None
    try:
        db = janitor.create_case_database(example.id, scenario.name, lane)
    except psycopg.OperationalError:
        session.ensure_server_alive()
        raise
    controls = LiveControls(server, janitor, db)
    ctx = CaseContext(example=example, scenario=scenario, spec=session.spec, db=db, controls=controls)
    check = check_class(ctx)
    try:
        check.prepare()
        timeout = example.run_timeout or scenario.timeout_seconds
        env = case_environment(session.config.environ, server.endpoint, example,
                               replace(scenario, params=check.run_params()), db)
        observation = observe(session, server.admin, server_log, ctx, env, timeout, check)
        check.ctx = ctx = ctx.observed(observation)
        verdict = verify(check, ctx, timeout)
    except psycopg.OperationalError:
        # The harness's own queries fail when the server is gone: say that, once.
        session.ensure_server_alive()
        raise
    finally:
        if server.is_alive():
            check.finish()
            controls.undo()
            if not session.config.keep:
                janitor.drop_case_database(db)
    run = ctx.process
    assert run is not None
    problems = tuple(verdict.problems)   # masked with the whole result in run_case
    # The streams are masked whole, before they are cut into head and tail: a password split
    # by the cut would escape a mask applied afterwards.
    run.stdout, run.stderr, run.stderr_head = session.mask(run.stdout), session.mask(run.stderr), session.mask(run.stderr_head)
    return Finding(scenario.name, problems=problems, diff="\n".join(verdict.diffs), observed=verdict.observed,
                   stdout=run.stdout, stderr=kept_stderr(run),
                   stderr_tail=stderr_excerpt(run), server_view=server_view(ctx) if problems else "")


def _server_now(admin: Admin) -> datetime:
    with admin_connection(admin.conninfo()) as conn:
        return conn.execute("SELECT clock_timestamp()").fetchone()[0]


def observe(session: HarnessSession, admin: Admin, server_log: ServerLog, ctx: CaseContext, env: dict[str, str],
            timeout: float, check: ScenarioCheck) -> Observation:
    """Runs the example's process while sampling pg_stat_activity, then reads what the server
    logged for the case and waits for its backends to go."""
    offset = server_log.end_offset()
    before = _server_now(admin)
    case_id = f"{ctx.example.id}::{ctx.scenario.name}"
    with ActivitySampler(admin.conninfo(), ctx.db.dbname) as sampler:
        launch = session.executor.launch(ctx.example, env, case_id)
        try:
            run = run_process(launch.command, launch.cwd, launch.env, timeout, on_checkpoint=check.on_checkpoint,
                              confine=launch.confine)
        finally:
            session.executor.after_case(case_id)
    after = _server_now(admin)
    gone_within = float(ctx.scenario.expect.get("backends_gone_within_seconds", 2))
    _reached, _seconds, left = wait_backends_gone(admin.conninfo(), ctx.db.dbname, gone_within)
    # Whatever of the role is still connected is terminated now, and named in the verdict.
    assert session.janitor is not None
    leftovers = tuple(session.janitor.close_leftover_backends(ctx.db.role))
    time.sleep(0.05)  # the logging collector writes the last disconnection a moment later
    return Observation(process=run, log=tuple(server_log.read_since(offset)), timeline=sampler.timeline,
                       backends_left=left, server_time_before=before, server_time_after=after,
                       leftover_backends=leftovers,
                       statement_stats=read_statement_stats(admin.conninfo(), ctx.db.dbname, ctx.db.role))


def server_view(ctx: CaseContext) -> str:
    """The server's record of the case's own role and database, for a failure's reader."""
    mine = ctx.my_log()
    connections = ctx.connections_authorized()
    errors = [r for r in mine if r.severity in ("ERROR", "FATAL", "PANIC")]
    statements = [r.message for r in mine if r.message.startswith(("statement:", "execute"))]
    lines = [f"role {ctx.db.role}, database {ctx.db.dbname}",
             f"connections opened: {len(connections)}; peak backends sampled: {ctx.timeline.peak}; "
             f"backends left after exit: {ctx.backends_left}"]
    lines += [f"{r.severity} {r.state_code}: {r.message[:160]}" for r in errors[:6]]
    lines += summary_lines(ctx.statements())
    if statements:
        lines.append(f"statements ({len(statements)}), last ones:")
        lines += [f"  {s[:160]}" for s in statements[-5:]]
    return "\n".join(lines)
