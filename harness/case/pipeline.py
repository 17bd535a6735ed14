"""One case from start to finish: does it run at all -> its build -> its database and check ->
its environment -> the process and its protocol -> observation -> judgement."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from typing import Any

import psycopg

from harness import case_costs
from harness.admin_connections import admin_connection
from harness.case.context import CaseContext, Observation
from harness.case.controls import LiveControls
from harness.case.environment import case_environment, reproduce_command
from harness.case.judgement import Finding, judge
from harness.case.protocol import verify
from harness.credentials import mask_all
from harness.manifest import Example
from harness.messages import kept_stderr, stderr_excerpt
from harness.observe import ActivitySampler, ServerLog
from harness.outcome import ScenarioResult
from harness.pooler import DIRECT_TOPOLOGY, Topology, case_key, topology as as_topology
from harness.pooler.fixes import applied, fix_of
from harness.pooler.known import known_behind_pooler
from harness.pooler.log import log_size, read_since
from harness.pooler.pgbouncer import PgBouncer
from harness.process import run_process
from harness.scenarios import REGISTRY, ScenarioCheck
from harness.server.base import Admin
from harness.session import HarnessSession
from harness.spec import Scenario
from harness.statements import read_statement_stats, summary_lines


def run_case(session: HarnessSession, example: Example, scenario_name: str,
             where: Topology | str = DIRECT_TOPOLOGY, role_index: int = 0) -> ScenarioResult:
    """role_index: which of the example's roles the case logs in as (0: ex_<id>; harness.schedule).
    `where` is the case's topology (a label is parsed here, once)."""
    topology = as_topology(where)
    start = time.monotonic()
    finding = find(session, example, session.spec.scenarios[scenario_name], topology, role_index)
    if finding.not_applicable is None and finding.undeclared is None:
        # From its turn at the server (a parallel run's wait for the gate is not the case's time).
        finding = replace(finding, seconds=time.monotonic() - (finding.started or start))
    # A driver fix's row keeps its topology's other known incompatibilities; the ones it resolves must pass.
    paths = session.config.paths
    fix = fix_of(paths.spec, topology, paths.examples, example.id)
    pooled_known = None if not topology.pooled or (fix and scenario_name in fix.resolves) else known_behind_pooler(
        paths.spec, tuple(session.spec.names), example.id, scenario_name, topology, paths.examples)
    return mask_all(judge(example, finding, prune_known_failures=session.config.update_known_failures,
                          known_behind_pooler=pooled_known), session.credentials)


def before_run(session: HarnessSession, example: Example, name: str,
               topology: Topology = DIRECT_TOPOLOGY) -> Finding | None:
    """A case that does not run: not applicable (to the example, or to the topology), or not
    declared by the example."""
    if name in example.not_applicable:
        return Finding(name, not_applicable=example.not_applicable[name], topology=topology.label)
    if name not in example.applies:
        manifest = example.manifest.relative_to(session.config.paths.examples.parent)
        return Finding(name, topology=topology.label, undeclared=f"not declared in {manifest}: "
                                                           "add it under scenarios.applies or scenarios.not_applicable")
    check_class = REGISTRY.get(name)
    reason = check_class.not_behind(topology) if check_class is not None else None
    if reason is not None:
        return Finding(name, not_applicable=reason, topology=topology.label)
    return None


def find(session: HarnessSession, example: Example, scenario: Scenario, topology: Topology = DIRECT_TOPOLOGY,
         role_index: int = 0) -> Finding:
    skipped = before_run(session, example, scenario.name, topology)
    if skipped is not None:
        return skipped
    return replace(find_running(session, example, scenario, topology, role_index), topology=topology.label)


def find_running(session: HarnessSession, example: Example, scenario: Scenario, topology: Topology,
                 role_index: int = 0) -> Finding:
    reproduce = reproduce_command(session.config.backend, example, scenario.name, topology)
    session.prepare_example(example)
    if example.id in session.missing:
        lines = [status.line for status in session.missing[example.id]]
        return Finding(scenario.name, reproduce=reproduce, codes=("toolchain_missing",), problems=(
            "toolchain missing: " + "; ".join(lines),
            "the example cannot be built or run on this machine until these are installed",
            "`python -m harness doctor` lists every example's tools"))
    build = session.builds[example.id]
    if not build.ok:
        return Finding(scenario.name, reproduce=reproduce, stderr_tail=build.log_tail(), codes=("build_failed",),
                       problems=(f"build failed: {build.message}", f"build log: {build.log_path}"))
    session.start()
    check_class = REGISTRY.get(scenario.name)
    if check_class is None:
        return Finding(scenario.name, reproduce=reproduce, codes=("no_check",), problems=(
            f"the harness has no check for scenario {scenario.name!r}", "add a ScenarioCheck for it in harness/scenarios/"))
    with session.gate.enter(check_class.exclusive, case_costs.key(example.id, scenario.name)):
        started = time.monotonic()
        return replace(run_on_server(session, example, scenario, check_class, topology, role_index), reproduce=reproduce,
                       started=started)


def run_on_server(session: HarnessSession, example: Example, scenario: Scenario,
                  check_class: type[ScenarioCheck], topology: Topology = DIRECT_TOPOLOGY, role_index: int = 0) -> Finding:
    session.ensure_server_alive()
    server, janitor, server_log = session.server, session.janitor, session.server_log
    assert server is not None and janitor is not None and server_log is not None
    try:
        # Named by the case key: a pooler of another topology may still dial a database of the
        # same scenario that it served a moment ago, and must never reach this case's.
        db = janitor.create_case_database(example.id, case_key(scenario.name, topology), role_index)
    except psycopg.OperationalError:
        session.ensure_server_alive()
        raise
    pooler = session.poolers.get(topology, server) if topology.pooled else None
    if pooler is not None:
        pooler.sync_auth()   # the role's SCRAM secret as ensure_role just set it
        pooler.warm(db.dbname, db.role, db.password)
    standby = (session.standby, session.spec.fixture, example.id, case_key(scenario.name, topology), role_index)
    controls = LiveControls(server, janitor, db, pooler, standby if pooler else None)
    ctx = CaseContext(example=example, scenario=scenario, spec=session.spec, db=db, controls=controls,
                      topology=topology)
    check = check_class(ctx)
    try:
        check.prepare()
        timeout = example.run_timeout or scenario.timeout_seconds
        endpoint = server.endpoint if pooler is None else pooler.endpoint
        env = case_environment(session.config.environ, endpoint, example,
                               replace(scenario, params=check.run_params()), db)
        with applied(fix_of(session.config.paths.spec, topology, session.config.paths.examples, example.id)) as fix_env:
            observation = observe(session, server.admin, server_log, ctx, {**env, **fix_env}, timeout, check, pooler)
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
    return Finding(scenario.name, problems=problems, codes=tuple(verdict.codes), sqlstates=shown_sqlstates(ctx),
                   diff="\n".join(verdict.diffs), observed=verdict.observed,
                   stdout=run.stdout, stderr=kept_stderr(run),
                   stderr_tail=stderr_excerpt(run), server_view=server_view(ctx) if problems else "")


def shown_sqlstates(ctx: CaseContext) -> tuple[str, ...]:
    """The SQLSTATEs a case showed (a known failure may name one): of the ERROR and FATAL records
    the server logged for it, then the `sqlstate` fields of its result's data."""
    states = [r.state_code for r in ctx.my_log() if r.severity in ("ERROR", "FATAL", "PANIC") and r.state_code]
    results = ctx.process.results if ctx.process is not None else []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if "sqlstate" in str(key) and isinstance(item, str):
                    states.append(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(results[-1].get("data") if results else None)
    return tuple(dict.fromkeys(states))


def _server_now(admin: Admin) -> datetime:
    with admin_connection(admin.conninfo()) as conn:
        return conn.execute("SELECT clock_timestamp()").fetchone()[0]


def observe(session: HarnessSession, admin: Admin, server_log: ServerLog, ctx: CaseContext, env: dict[str, str],
            timeout: float, check: ScenarioCheck, pooler: PgBouncer | None = None) -> Observation:
    """Runs the example's process while sampling pg_stat_activity, then reads what the server
    (and PgBouncer, for a pooled case) logged for the case and waits for its connections to go."""
    offset = server_log.end_offset()
    pooler_offset = log_size(pooler.log_path) if pooler else 0
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
    # Through a pooler the example's own connections are its clients at PgBouncer (whose server
    # connections stay pooled by design); straight to the server, its backends.
    _reached, _seconds, left = ctx.controls.wait_connections_gone(gone_within)
    # Whatever of the role is still connected straight to the server is terminated now, and named
    # in the verdict; PgBouncer's pooled server connections are not the example's.
    assert session.janitor is not None
    leftovers = tuple(session.janitor.close_leftover_backends(ctx.db.role)) if pooler is None else ()
    log = server_log.read_through(offset, ctx.db.dbname)
    pooler_log = tuple(read_since(pooler.log_path, pooler_offset)) if pooler else ()
    return Observation(process=run, log=tuple(log), timeline=sampler.timeline,
                       backends_left=left, server_time_before=before, server_time_after=after,
                       leftover_backends=leftovers, pooler_log=pooler_log,
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
