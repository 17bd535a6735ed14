"""The session-state checks (prepared_statement_reuse, session_set) with a fake, no PostgreSQL: what
they read from the data and the statement log, where they have PgBouncer replace the server
connections, and their known incompatibilities in spec/pgbouncer.yaml (expected failures only
with the documented error)."""

from __future__ import annotations

from harness.case.judgement import Finding, judge
from harness.outcome import Outcome
from harness.pooler.known import known_behind_pooler
from harness.scenarios.session_state import named_executions, reads_and_writes
from harness.observe import LogRecord
from harness.scenarios.base import ScenarioCheck
from tests.fakes import SPEC_LOADED, FakeControls, check_for, example, record, verify
from tests.support import SPEC

POOLED = "pgbouncer-transaction"
MARKER = "client 1's marker"
LOOKUP = "SELECT id, name FROM users WHERE id = $1"


def expected_results() -> list[list[dict[str, object]]]:
    return SPEC_LOADED.scenarios["prepared_statement_reuse"].expect["results"]


def executions(name: str = "users_by_id", pids: tuple[int, ...] = (100,) * 6) -> list[LogRecord]:
    return [record(0.1 * i, f"execute {name}: {LOOKUP}", pid=pid) for i, pid in enumerate(pids)]


def test_named_executions_are_told_from_unnamed_ones_at_both_levels() -> None:
    log = [record(0, f"execute users_by_id: {LOOKUP}"), record(0.1, "execute S_1: SELECT 1"),
           record(0.2, "statement: EXECUTE users_by_id(1)"), record(0.3, f"execute <unnamed>: {LOOKUP}"),
           record(0.4, "statement: PREPARE users_by_id (integer) AS SELECT 1")]
    assert [r.message[:20] for r in named_executions(log)] == [
        "execute users_by_id:", "execute S_1: SELECT ", "statement: EXECUTE u"]


def test_prepared_statement_reuse_passes_on_six_named_executions() -> None:
    check = check_for("prepared_statement_reuse")
    check.on_checkpoint("prepared")
    verdict = verify(check, {"results": expected_results()}, log=executions())
    assert verdict.problems == []
    assert verdict.observed["named_executions"] == 6 and verdict.observed["server_connections_replaced"] == 0


def test_unnamed_statements_are_not_a_prepared_statement_reused() -> None:
    check = check_for("prepared_statement_reuse")
    check.on_checkpoint("prepared")
    verdict = verify(check, {"results": expected_results()}, log=executions("<unnamed>"))
    assert verdict.problems == ["the server ran 0 of the 6 executions as a named prepared statement: prepare "
                                "'users_by_id' once with the driver's own API and execute it by name (an unnamed "
                                "statement is prepared afresh each time)"]


def test_a_statement_under_another_name_fails_unless_the_driver_names_its_own() -> None:
    # tokio-postgres names its statements s0, s1, ...: that passed, so the name was never checked.
    check = check_for("prepared_statement_reuse")
    check.on_checkpoint("prepared")
    problems = verify(check, {"results": expected_results()}, log=executions("s0")).problems
    assert problems == ["the server ran the executions under the name(s) ['s0'], not params.name 'users_by_id': "
                        "prepare it by that name with the driver's own API; if the driver has no API for a "
                        "statement's name (it names its own, like pgjdbc's S_1), declare `statement_names: "
                        f"automatic` under driver in {example().manifest}"]
    automatic = check_for("prepared_statement_reuse", statement_names="automatic")
    automatic.on_checkpoint("prepared")
    verdict = verify(automatic, {"results": expected_results()}, log=executions("S_1"))
    assert verdict.problems == []
    assert verdict.observed["name_checked"].startswith("not checked: ") and "(S_1), not that it is named " \
        "'users_by_id'" in verdict.observed["name_checked"]
    sql_level = check_for("prepared_statement_reuse")
    sql_level.on_checkpoint("prepared")
    log = [record(0.1 * i, f"statement: EXECUTE users_by_id({i})") for i in range(6)]
    assert verify(sql_level, {"results": expected_results()}, log=log).problems == []


def test_the_checkpoint_replaces_the_server_connections_only_behind_a_pooler() -> None:
    pooled = FakeControls(pooled=True)
    check = check_for("prepared_statement_reuse", pooled, topology=POOLED)
    check.on_checkpoint("prepared")
    assert pooled.actions == [("reconnect_pooler", True)]
    # A driver that heals the 26000 itself (pgjdbc re-prepares in autocommit) passes, and it shows.
    healed = [record(0.15, 'prepared statement "S_1" does not exist', severity="ERROR", state="26000", pid=101)]
    verdict = verify(check, {"results": expected_results()}, log=executions(pids=(100, 101, 101, 101, 101, 101)) + healed)
    assert verdict.problems == []
    assert verdict.observed["not_found_on_server"] == 1 and verdict.observed["server_sessions"] == 2
    assert verdict.observed["server_connections_replaced"] == 1


def test_an_example_that_skips_the_checkpoint_fails() -> None:
    verdict = verify(check_for("prepared_statement_reuse"), {"results": expected_results()}, log=executions())
    assert verdict.problems == ["the example never reached the checkpoint(s) ['prepared']"]


def test_reads_and_writes_of_a_setting_by_function_or_by_statement() -> None:
    log = [record(0, "execute <unnamed>: SELECT set_config($1, $2, false)"),
           record(0.1, "statement: SET harness.marker = 'x'"), record(0.2, "statement: SHOW harness.marker"),
           record(0.3, "statement: SELECT current_setting('harness.marker', true)"),
           record(0.4, "statement: SHOW standard_conforming_strings"), record(0.5, "statement: SET application_name='a'")]
    reads, writes = reads_and_writes(log, "harness.marker")
    assert [r.timestamp for r in reads] == [log[2].timestamp, log[3].timestamp]
    assert [r.timestamp for r in writes] == [log[0].timestamp, log[1].timestamp]


def session_log(set_pid: int, other_pid: int, back_pid: int) -> list[LogRecord]:
    """Client 1's SET, client 2's read, client 1's read back, on the backends given."""
    return [record(0.1, "execute <unnamed>: SELECT set_config($1, $2, false)", pid=set_pid),
            record(0.2, "execute <unnamed>: SELECT current_setting($1, true)", pid=other_pid),
            record(0.3, "execute <unnamed>: SELECT current_setting($1, true)", pid=back_pid)]


def session_check(controls: FakeControls | None = None, topology: str = "direct") -> ScenarioCheck:
    check = check_for("session_set", controls, topology=topology)
    check.on_checkpoint("connected")
    check.on_checkpoint("before_read_back")
    return check


def test_session_set_passes_when_each_session_keeps_its_own() -> None:
    verdict = verify(session_check(), {"read_back": MARKER, "other_client_read": None}, log=session_log(100, 101, 100))
    assert verdict.problems == []
    assert verdict.observed["server_sessions"] == {"set": 100, "reads": [101, 100]}


def test_session_set_lost_and_leaked_behind_transaction_pooling_names_the_backends() -> None:
    pooled = FakeControls(pooled=True)
    verdict = verify(session_check(pooled, POOLED), {"read_back": None, "other_client_read": MARKER},
                     log=session_log(100, 100, 102))
    assert pooled.actions == [("reconnect_pooler", True)] * 2
    lost, leaked = verdict.problems
    assert lost.startswith("session SET was lost: client 1 set harness.marker to \"client 1's marker\" and read "
                           "back None in a later statement (the SET ran on server backend 100, the read back on 102)")
    assert leaked.startswith("session SET leaked to another client: client 2 read harness.marker = \"client 1's "
                             "marker\", which only client 1 set (its read ran on server backend 100, where client 1 SET it)")
    assert "behind transaction pooling each transaction may run on another server connection" in lost


def test_a_value_reported_without_reading_it_back_is_caught_by_the_log() -> None:
    # The example reports the value it set; the server saw one read only (client 2's).
    verdict = verify(session_check(), {"read_back": MARKER, "other_client_read": None}, log=session_log(100, 101, 100)[:2])
    assert verdict.problems == ["the server saw 1 read(s) of harness.marker after the SET, expected one per client "
                                "(current_setting or SHOW): report what the server answers, not the value that was set"]


def test_a_session_set_that_never_reached_the_server_fails_at_once() -> None:
    verdict = verify(session_check(), {"read_back": MARKER, "other_client_read": None})
    assert verdict.problems == ["the server never saw a SET of harness.marker (set_config or SET): client 1 must set "
                                "it in its session"]


def test_the_matrix_lists_them_as_expected_failures_with_their_errors() -> None:
    names = tuple(SPEC_LOADED.names)
    node = known_behind_pooler(SPEC, names, "node/pg-pool", "prepared_statement_reuse", POOLED)
    psycopg2 = known_behind_pooler(SPEC, names, "python/psycopg2", "prepared_statement_reuse", POOLED)
    assert node is not None and psycopg2 is not None
    assert node.expected == psycopg2.expected
    assert node.expected.sqlstates == ("26000",) and node.expected.messages == ('prepared statement "users_by_id" does not exist',)
    assert not node.intermittent and "max_prepared_statements" in psycopg2.reason
    # pgjdbc heals a 26000 in autocommit by preparing again: no entry, the case must pass.
    assert known_behind_pooler(SPEC, names, "java/hikaricp", "prepared_statement_reuse", POOLED) is None
    assert known_behind_pooler(SPEC, names, "node/pg-pool", "prepared_statement_reuse", "pgbouncer-session") is None
    session_set = known_behind_pooler(SPEC, names, "java/hikaricp", "session_set", POOLED)
    assert session_set is not None and session_set.expected.reason_codes == ("session_set_lost",)
    lost = Finding("session_set", topology=POOLED, problems=("session SET was lost: client 1 set ...",), codes=("session_set_lost",))
    assert judge(example(), lost, known_behind_pooler=session_set).outcome is Outcome.XFAILED
    other = Finding("session_set", topology=POOLED, problems=("the example never reached the checkpoint(s)",))
    assert judge(example(), other, known_behind_pooler=session_set).outcome is Outcome.FAILED


def lock_log(lock_pid: int, try_pid: int, unlock_pid: int) -> list[LogRecord]:
    return [record(0.1, "execute <unnamed>: SELECT pg_advisory_lock($1)", pid=lock_pid),
            record(0.2, "execute <unnamed>: SELECT pg_try_advisory_lock($1)", pid=try_pid),
            record(0.3, "execute <unnamed>: SELECT pg_advisory_unlock($1)", pid=unlock_pid)]


def lock_check(controls: FakeControls | None = None, topology: str = "direct") -> ScenarioCheck:
    check = check_for("advisory_lock", controls, topology=topology)
    check.on_checkpoint("connected")
    check.on_checkpoint("before_unlock")
    return check


def test_advisory_lock_passes_when_the_session_keeps_its_lock() -> None:
    verdict = verify(lock_check(), {"other_client_got_it": False, "unlocked": True}, log=lock_log(100, 101, 100))
    assert verdict.problems == [] and verdict.observed["server_sessions"] == {"lock": 100, "try": 101, "unlock": 100}


def test_advisory_lock_lost_and_leaked_behind_transaction_pooling() -> None:
    pooled = FakeControls(pooled=True)
    verdict = verify(lock_check(pooled, POOLED), {"other_client_got_it": True, "unlocked": False},
                     log=lock_log(100, 100, 102))
    lost, leaked = verdict.problems
    assert lost.startswith("session advisory lock was lost: client 1's pg_advisory_unlock returned False, so its "
                           "server session did not hold the lock it took (the lock was taken on server backend 100, "
                           "the unlock ran on 102)")
    assert leaked.startswith("session advisory lock leaked to another client: client 2's pg_try_advisory_lock "
                             "returned True while client 1 held the lock (its try ran on server backend 100, which "
                             "holds client 1's lock)")


def test_advisory_lock_answers_the_server_never_saw_fail() -> None:
    verdict = verify(lock_check(), {"other_client_got_it": False, "unlocked": True}, log=lock_log(100, 101, 100)[:2])
    assert verdict.problems == ["the server never saw pg_advisory_unlock: client 1 locks and unlocks, client 2 tries "
                                "the lock, each as a statement of its own"]
    known = known_behind_pooler(SPEC, tuple(SPEC_LOADED.names), "cpp/libpqxx", "advisory_lock", POOLED)
    assert known is not None and known.expected.reason_codes == ("advisory_lock_lost",)


def test_behind_a_pooler_that_re_prepares_the_servers_name_is_the_poolers() -> None:
    # PgBouncer 1.24 with max_prepared_statements runs a client's users_by_id as PGBOUNCER_1 on the server.
    check = check_for("prepared_statement_reuse", topology="pgbouncer-1.24-transaction")
    check.on_checkpoint("prepared")
    verdict = verify(check, {"results": expected_results()}, log=executions("PGBOUNCER_1"))
    assert verdict.problems == []
    assert "re-prepared it under its own name(s) (PGBOUNCER_1" in verdict.observed["name_checked"]
    # Straight to the server such a name is a wrong name.
    direct = check_for("prepared_statement_reuse")
    direct.on_checkpoint("prepared")
    assert verify(direct, {"results": expected_results()}, log=executions("PGBOUNCER_1")).problems
