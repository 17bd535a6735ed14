"""The verdicts that name real samples' bugs, each proven by a deliberately wrong example that
makes that bug (and good/reference, with the same plumbing, passing the same scenario)."""

from __future__ import annotations

import pytest

from harness.messages import citation
from harness.outcome import Outcome
from harness.scenarios.pools import PoolAcquireTimeout
from tests.fakes import check_for, session_of, verify
from tests.support import BadRun, problems_of

SCENARIOS = ["tls_wrong_host", "param_query", "transaction", "pool_release_on_error", "no_pool_exhaustion"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_reference_passes(bad: BadRun, scenario: str) -> None:
    result = bad.case("good/reference", scenario)
    assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message


def test_a_tls_flag_mapped_to_require_accepts_a_certificate_for_another_host(bad: BadRun) -> None:
    result = bad.case("bad/tls-no-hostname", "tls_wrong_host")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert problems[0].startswith("the connection to 127.0.0.2 succeeded, although the server's certificate names "
                                  "only localhost, 127.0.0.1: host-name verification is off")
    assert problems[1].startswith("the server authorized 1 session(s) of the example's role")


def test_the_reference_refuses_the_host_name_and_the_server_saw_it_try(bad: BadRun) -> None:
    observed = bad.case("good/reference", "tls_wrong_host").observed
    assert "does not match host name" in observed["driver_error"]
    assert observed["server_saw"].endswith("then nothing: the client hung up")


def test_a_client_released_only_on_success_keeps_the_pool_from_closing(bad: BadRun) -> None:
    result = bad.case("bad/pool-release-on-success", "pool_release_on_error")
    assert result.outcome is Outcome.FAILED
    assert result.message == ("timed out after 4 s; its process group was killed: reached after_error, never "
                              "after_close: a client that was never released (released only on the success path) "
                              "keeps the pool's close waiting")


def test_a_client_returned_with_its_failed_transaction_is_caught_by_the_servers_view(bad: BadRun) -> None:
    result = bad.case("bad/pool-release-no-rollback", "pool_release_on_error")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert problems[0].startswith("backend ") and "with 25P02 'current transaction is aborted'" in problems[0]
    assert problems[1] == "data.after differs from the spec"  # the next borrower got 25P02
    assert any(p.startswith("backend ") and p.endswith("was neither rolled back nor closed: the client went back to "
                                                       "the pool (or stayed out) with its transaction open (release it "
                                                       "in finally, discarding it on error)") for p in problems), problems
    assert "1 backend(s) ['idle in transaction (aborted)'] at checkpoint after_error" in "\n".join(problems)
    assert result.observed["failed_client"]["state_after_error"] == "idle in transaction (aborted)"


def test_a_transaction_spread_over_pool_queries_is_caught_by_the_statement_log(bad: BadRun) -> None:
    result = bad.case("bad/tx-over-pool", "transaction")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    # Its data is right (the failed connection died, taking the insert with it): only the log tells.
    assert not any("differs from the spec" in p for p in problems), problems
    assert problems[0].startswith("backend ") and "got 'ROLLBACK' with no transaction open on it: the transaction's " \
        "statements went to different connections" in problems[0]
    assert problems[-1].startswith("the server warned 1 time(s) 25P01 'there is no transaction in progress'")


def test_hand_quoted_values_break_where_a_backslash_escapes_a_quote(bad: BadRun) -> None:
    result = bad.case("bad/hand-escaped", "param_query")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert problems[:2] == ["data.by_name differs from the spec",
                            "with standard_conforming_strings = off a backslash escapes a quote, so values quoted by "
                            "hand (quotes doubled) turn into SQL: bind them, or let the driver quote them"]
    assert result.observed["binding"] == "client-side"


def test_a_manifest_claiming_server_binding_for_a_client_binder_is_a_failure(bad: BadRun) -> None:
    result = bad.case("bad/binding-mismatch", "param_query")
    assert result.outcome is Outcome.FAILED
    # The driver's own quoting survives standard_conforming_strings = off: the data is right.
    assert problems_of(result) == [
        f"{bad.example('bad/binding-mismatch').manifest} declares driver.binding: server, but the statement log "
        "shows client-side binding: the values were spliced into the SQL text"]


def test_values_spliced_beside_bound_ones_are_a_failure(bad: BadRun) -> None:
    result = bad.case("bad/half-bound", "param_query")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == [
        f"{bad.example('bad/half-bound').manifest} declares driver.binding: server, but the statement log shows some "
        "lookups bound ($1) and some with the values spliced into the SQL text: bind every value"]


def test_an_oversized_pool_is_caught_in_the_pooled_half(bad: BadRun) -> None:
    result = bad.case("bad/pool-oversized", "no_pool_exhaustion")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == ["the pooled half opened 20 connections at once; the pool's max is 10 "
                                   "(connection log up to checkpoint after_pooled)"]


def test_a_second_acquire_that_succeeded_is_not_reported_as_a_fast_timeout(bad: BadRun) -> None:
    result = bad.case("bad/pool-oversized", "pool_acquire_timeout")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert problems[0].startswith("the second acquire succeeded after ")
    assert problems[0].endswith(" ms while the only connection was held: the pool lent more than its max of 1 "
                                "(the server saw 2 open at once)")
    assert not any("timed out after" in p for p in problems), problems


def test_a_crash_shows_the_first_lines_of_stderr_where_the_cause_is(bad: BadRun) -> None:
    result = bad.case("bad/crash-dump", "connect_now")
    assert result.outcome is Outcome.FAILED and result.failure is not None
    excerpt = result.failure.stderr_tail
    assert "throw er; // Unhandled 'error' event" in excerpt
    assert "terminating connection due to administrator command (57P01)" in excerpt
    assert "the middle is left out" in excerpt and excerpt.rstrip().endswith("Node.js v18.19.0")
    assert "Unhandled 'error' event" in result.stderr  # results.json keeps the start too


def test_printing_the_result_and_not_exiting_is_its_own_failure(bad: BadRun) -> None:
    result = bad.case("bad/no-exit", "connect_now")
    assert result.outcome is Outcome.FAILED
    assert result.message == ("printed its result, then did not exit within 3 s (its process group was killed): "
                              "something still open keeps it alive (a connection, client or pool never closed, a "
                              "timer, a thread)")


def test_citations_belong_to_their_driver(bad: BadRun) -> None:
    result = bad.case("bad/pool-hang", "pool_acquire_timeout")  # psycopg: no node-postgres issue
    assert "node-postgres" not in result.message
    assert result.message == f"timed out after 3 s; its process group was killed: {PoolAcquireTimeout.timeout_hint}"
    # For node-postgres, only when what was seen is what the report describes: a first connect that
    # never logged in; a second acquire waiting past its timeout is the example's (no timeout set).
    first_connect_hung = check_for("pool_acquire_timeout")
    verify(first_connect_hung, {})
    assert citation(first_connect_hung, "pg").startswith("node-postgres #3197 describes such a hang")
    assert citation(first_connect_hung, "pgjdbc + HikariCP") == ""
    held_then_waited = check_for("pool_acquire_timeout")
    verify(held_then_waited, {}, log=session_of(200, 0.1))
    assert citation(held_then_waited, "pg") == ""


def test_a_connection_lent_out_while_aborted_is_named_though_the_program_died_of_it(bad: BadRun) -> None:
    result = bad.case("bad/pool-aborted-lent", "pool_release_on_error")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    # Before the exit code: the cause, as the server saw it.
    assert problems[0].startswith("backend ") and " answered 1 statement(s) with 25P02 'current transaction is " \
        "aborted': after its statement failed (23505 'duplicate key value violates unique constraint" in problems[0]
    assert problems[0].endswith("the connection was used again (lent out by the pool, or kept) without a ROLLBACK; "
                                "roll back (or discard the connection) on error before it goes back to the pool")
    assert "exited with code 1" in problems


def test_the_fixture_exposes_a_missing_order_by(bad: BadRun) -> None:
    result = bad.case("bad/fixture-luck", "select_rows")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result)[0] == "data.rows differs from the spec"   # loaded 7, 5, 3, 1, 2, 4, 6, 8


def test_the_fixture_and_the_time_zone_expose_a_double_and_a_local_timestamp(bad: BadRun) -> None:
    result = bad.case("bad/fixture-luck", "types")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result)[0] == "data.values (canonical) differs from the spec"
    assert result.failure is not None
    changed = [line for line in result.failure.diff.splitlines() if line.startswith(("-", "+"))
               and not line.startswith(("---", "+++"))]
    # Only the two values the fixture and the environment were chosen to break (TZ is not UTC).
    assert {line[1:].strip().split(":")[0] for line in changed} == {'"numeric"', '"timestamptz"'}, changed
