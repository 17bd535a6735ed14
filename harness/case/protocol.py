"""How the example ran and spoke: its exit, its stdout (one JSON result line for the scenario)
and whether the server saw it at all. These problems come before its data is judged."""

from __future__ import annotations

from typing import Any

from harness.case.context import CaseContext
from harness.messages import timeout_problem
from harness.process import ProcessRun
from harness.sandbox import leftover_problems
from harness.scenarios.base import ScenarioCheck, Verdict
from harness.spec import Scenario
from harness.statements import over_limit_problem


def protocol_problems(run: ProcessRun, scenario: Scenario, check: ScenarioCheck, verdict: Verdict,
                      timeout: float) -> dict[str, Any] | None:
    """Problems with how the example ran and spoke; returns the result's data when there is one."""
    if run.start_error:
        verdict.fail(run.start_error + " (check run.command in example.yaml)", "start_failed")
        return None
    if run.timed_out:
        verdict.fail(timeout_problem(run, timeout, check, check.ctx.example.driver_name), "timed_out")
    if run.checkpoint_error:
        verdict.fail(run.checkpoint_error, "checkpoint")
    if run.exit_code not in (0, None) and not run.timed_out:
        verdict.fail(f"exited with code {run.exit_code}" + (" (crashed: killed by a signal)" if run.exit_code < 0 else ""),
                     "exit_code")
    if run.bad_lines:
        verdict.fail(f"printed {len(run.bad_lines)} line(s) on stdout that are not JSON objects, first: "
                     f"{run.bad_lines[0][:120]!r} (human output belongs on stderr)", "stdout_not_json")
    if run.partial_line.strip():
        verdict.fail(f"stdout ended in half a line: {run.partial_line[:120]!r} (end each line with a newline)", "stdout_half_line")
    if run.stdout_truncated:
        verdict.fail("flooded stdout: output beyond 1 MiB was discarded", "stdout_flood")
    results = run.results
    if not results:
        if not run.timed_out and not run.stdout.strip():
            verdict.fail("printed nothing on stdout" + (" (it wrote only to stderr)" if run.stderr.strip() else ""), "no_result")
        elif not run.timed_out:
            verdict.fail('printed no {"type": "result", ...} line', "no_result")
        return None
    if len(results) > 1:
        verdict.fail(f"printed {len(results)} result lines; exactly one is expected", "result_lines")
    result = results[-1]
    if result.get("scenario") != (scenario.runs_as or scenario.name):
        verdict.fail(f"the result is for scenario {result.get('scenario')!r}, expected "
                     f"{scenario.runs_as or scenario.name!r}", "result_scenario")
    data = result.get("data")
    if not isinstance(data, dict):
        verdict.fail(f"the result's data must be an object, got {data!r:.80}", "result_data")
        return None
    return data


TOO_MANY_CONNECTIONS = "53300"   # the role's limit ("too many connections for role") or max_connections
ROLE_LIMIT_MESSAGE = "too many connections for role"


def connection_limit_problems(ctx: CaseContext) -> list[str]:
    """Connections the server refused the case with 53300, said by name: the role's fair share
    (spec/fixture.yaml limits.connections_per_role), unless the check set the case's limit itself
    (then refusals are what it judges), or the server's max_connections."""
    refused = [r for r in ctx.my_log() if r.state_code == TOO_MANY_CONNECTIONS]
    by_role = [r for r in refused if r.message.startswith(ROLE_LIMIT_MESSAGE)]
    problems = []
    if by_role and not ctx.controls.connection_limit_set():
        problems.append(f"hit its role's connection limit: the server refused {len(by_role)} connection(s) with "
                        f"{TOO_MANY_CONNECTIONS} ({by_role[0].message}); every example role may hold at most "
                        f"{ctx.spec.fixture.limits.connections_per_role} connections at once "
                        "(spec/fixture.yaml limits.connections_per_role): keep the pool within it, or let the "
                        "scenario's check raise it for its case (ctx.controls.set_connection_limit)")
    others = [r for r in refused if r not in by_role]
    if others:
        problems.append(f"the server refused {len(others)} connection(s) with {TOO_MANY_CONNECTIONS} "
                        f"({others[0].message}): the server's max_connections, shared by every case, was reached")
    return problems


IN_FAILED_TRANSACTION = "25P02"   # "current transaction is aborted, commands ignored until end of transaction block"


def aborted_reuse_problems(ctx: CaseContext) -> list[str]:
    """A backend that answered 25P02 was used again after a statement failed inside its
    transaction, with no ROLLBACK between: a pool lent the aborted connection out again, or the
    program kept using it. Named whatever else went wrong (the program often dies of it, with
    only its exit code to show)."""
    mine = ctx.my_log()
    problems = []
    for pid in dict.fromkeys(r.pid for r in mine if r.severity == "ERROR" and r.state_code == IN_FAILED_TRANSACTION):
        on_it = [r for r in mine if r.pid == pid]
        first = next(i for i, r in enumerate(on_it) if r.state_code == IN_FAILED_TRANSACTION)
        cause = next((r for r in reversed(on_it[:first]) if r.severity == "ERROR"), None)
        count = sum(1 for r in on_it if r.state_code == IN_FAILED_TRANSACTION)
        problems.append(
            f"backend {pid} answered {count} statement(s) with {IN_FAILED_TRANSACTION} 'current transaction is aborted': "
            + (f"after its statement failed ({cause.state_code} {cause.message[:80]!r}) " if cause else "after a failed "
               "statement ")
            + "inside a transaction, the connection was used again (lent out by the pool, or kept) without a "
              "ROLLBACK; roll back (or discard the connection) on error before it goes back to the pool")
    return problems


def judge_statements(ctx: CaseContext, verdict: Verdict) -> None:
    """Every case's statements counted into its observed figures, and its work held to the
    scenario's max_statements."""
    counted = ctx.statements()
    verdict.observed["statements"] = {**counted.to_json(), "max": ctx.scenario.max_statements}
    problem = over_limit_problem(counted, ctx.scenario.max_statements, ctx.scenario.name)
    if problem is not None:
        verdict.fail(problem, "max_statements")


def verify(check: ScenarioCheck, ctx: CaseContext, timeout: float) -> Verdict:
    """The whole verdict of a case that ran: its protocol, the check's judgement of its data, and
    that its output came from the server (an authorized session of its role)."""
    assert ctx.process is not None
    verdict = Verdict()
    for problem in leftover_problems(ctx.process.leftovers, ctx.process.stdout_held,
                                     list(ctx.observation.leftover_backends)):
        verdict.fail(problem, "leftovers")
    for problem in ctx.observation.tampered:
        verdict.fail(problem, "tampered")
    for problem in connection_limit_problems(ctx):
        verdict.fail(problem, "connection_limit")
    for problem in aborted_reuse_problems(ctx):
        verdict.fail(problem, "aborted_transaction_reused")
    data = protocol_problems(ctx.process, ctx.scenario, check, verdict, timeout)
    if data is not None:
        try:
            check.verify(data, verdict)
        except Exception as exc:  # noqa: BLE001 - a malformed result must not crash the run
            verdict.fail(f"the result's data could not be checked: {type(exc).__name__}: {exc}", "check_error")
    if check.expects_session and not ctx.reached_server():
        verdict.fail("the server saw no connection from this example's role: the output did not come from the server"
                     if not ctx.pooled else "PgBouncer logged no login of this example's role: the output did not "
                     "come from the server", "no_session")
    judge_statements(ctx, verdict)
    verdict.observed.setdefault("connections_opened", len(ctx.connections_authorized()))
    verdict.observed["process_seconds"] = round(ctx.process.elapsed, 3)
    if ctx.process.cpu_seconds is not None:
        verdict.observed["process_cpu_seconds"] = round(ctx.process.cpu_seconds, 3)
    return verdict
