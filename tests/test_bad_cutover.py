"""The cutover story's checks, proven on the real PgBouncer and a real second server by a wrong
example (tests/bad_examples/bad/cutover-liar): one that reports writes it rolled back, and one
that swallows the limit case's errors as success. The three pooled examples are the passing
side (python -m harness run --scenario story_pause_resume_cutover --via pgbouncer-transaction)."""

from __future__ import annotations

from harness.case.pipeline import run_case
from harness.outcome import Outcome
from tests.support import BadRun, problems_of

POOLED = "pgbouncer-transaction"


def test_reporting_writes_that_were_rolled_back_is_caught_on_the_servers(bad: BadRun) -> None:
    result = run_case(bad.session, bad.example("bad/cutover-liar"), "story_pause_resume_cutover", POOLED)
    assert result.outcome is Outcome.FAILED, result.message
    problems = problems_of(result)
    assert any("acknowledged ids are on neither server (lost)" in p for p in problems), problems
    figures = result.observed["cutover"]
    assert figures["lost"] > 0 and figures["twice"] == 0 and figures["on_new_server"] > 0
    assert figures["old_server_connections_after"] == 0


def test_swallowing_the_limit_cases_errors_is_caught(bad: BadRun) -> None:
    result = run_case(bad.session, bad.example("bad/cutover-liar"), "story_pause_resume_limit", POOLED)
    assert result.outcome is Outcome.FAILED, result.message
    problems = problems_of(result)
    assert any("no client reported PgBouncer's query_wait_timeout" in p for p in problems), problems
    assert any("(lost)" in p for p in problems), problems   # the swallowed transactions never committed


def test_the_cutover_story_needs_pgbouncer_in_transaction_mode(bad: BadRun) -> None:
    example = bad.example("bad/cutover-liar")
    direct = run_case(bad.session, example, "story_pause_resume_cutover")
    assert direct.outcome is Outcome.NOT_APPLICABLE and "needs PgBouncer" in direct.message
    session = run_case(bad.session, example, "story_pause_resume_cutover", "pgbouncer-session")
    assert session.outcome is Outcome.NOT_APPLICABLE and "PAUSE does not return" in session.message
