"""The checks through a pooler (tests/fakes.py, no PostgreSQL): each says which side it counts,
reads the client side from PgBouncer's console and log, and a scenario that cannot mean anything
behind PgBouncer is n/a for the pooled topologies with its reason. The known incompatibilities
(spec/pgbouncer.yaml) are expected failures only with their documented error."""

from __future__ import annotations

from dataclasses import replace

from harness.case.judgement import Finding, judge
from harness.expected_error import ExpectedError
from harness.manifest import KnownFailure
from harness.outcome import Outcome
from harness.pooler.known import known_behind_pooler, load_incompatibilities
from harness.pooler.log import open_clients_peak, parse_line
from harness.scenarios import REGISTRY
from tests.fakes import (DBNAME, SPEC_LOADED, FakeControls, check_for, example, pooler_client, record, session_of,
                         timeline, verify)
from tests.support import SPEC

POOLED = "pgbouncer-transaction"


def test_pgbouncers_log_lines_become_client_records() -> None:
    login = parse_line("2026-12-01 23:09:08.176 UTC [10697] LOG C-0x555b74d486e0: d1/r1@127.0.0.1:46276 "
                       "login attempt: db=d1 user=r1 tls=TLSv1.3/TLS_AES_256_GCM_SHA384")
    assert login is not None and login.is_login and login.database == "d1" and login.user == "r1"
    assert login.tls == "TLSv1.3/TLS_AES_256_GCM_SHA384"
    handshake = parse_line("2026-12-01 23:16:33.543 UTC [1641] WARNING TLS handshake error: handshake failed: x")
    assert handshake is not None and handshake.client == "" and handshake.message.startswith("TLS handshake error")
    assert parse_line("not a log line") is None
    records = pooler_client(1, 0.0, 1.0) + pooler_client(2, 0.5, 2.0) + pooler_client(3, 1.5)
    assert open_clients_peak(sorted(records, key=lambda r: r.timestamp)) == (2, 3)


def test_pool_bounded_behind_pgbouncer_counts_the_examples_clients_there() -> None:
    data = {"succeeded": 16, "failed": 0, "elapsed_ms": 500}
    # The server saw only two of PgBouncer's connections; the example opened five clients at once.
    server = session_of(900, 0.0, 3.0) + session_of(901, 0.0, 3.0)
    five = [line for c in range(5) for line in pooler_client(c, 0.1 * c, 2.0)]
    verdict = verify(check_for("pool_bounded", topology=POOLED), data, log=server, activity=timeline(2, 4, 4, 1),
                     pooler_log=five)
    assert verdict.observed["counted_side"] == "pgbouncer clients"
    assert "the pool opened 5 connections at once; its max is 4 (connection log)" in verdict.problems
    four = [line for c in range(4) for line in pooler_client(c, 0.1 * c, 2.0)]
    assert verify(check_for("pool_bounded", topology=POOLED), data, log=server, activity=timeline(2, 4, 4, 1),
                  pooler_log=four).problems == []


def test_tls_verify_full_behind_pgbouncer_believes_show_clients() -> None:
    clients = [{"port": 4711, "tls": "TLSv1.3/TLS_AES_256_GCM_SHA384"}]
    check = check_for("tls_verify_full", FakeControls(clients_now=clients), topology=POOLED)
    check.on_checkpoint("connected")
    # The example's own pg_stat_ssl row is PgBouncer's plain server connection: not held against it.
    data = {"ssl": False, "version": None, "cipher": None}
    logins = pooler_client(1, 0.1, tls="TLSv1.3/TLS_AES_256_GCM_SHA384")
    verdict = verify(check, data, pooler_log=logins)
    assert verdict.problems == [] and verdict.observed["tls_at"] == "pgbouncer"
    plain = check_for("tls_verify_full", FakeControls(clients_now=[{"port": 4711, "tls": ""}]), topology=POOLED)
    plain.on_checkpoint("connected")
    assert verify(plain, data).problems[0].startswith("PgBouncer's SHOW CLIENTS shows connection(s) [4711] unencrypted")


def test_tls_wrong_ca_behind_pgbouncer_needs_its_aborted_handshake() -> None:
    error = {"kind": "certificate", "type": "SSLError", "message": "certificate verify failed"}
    aborted = [replace(pooler_client(0, 0.1)[0], client="", database="", user="",
                       message="TLS handshake error: handshake failed: tlsv1 alert unknown ca")]
    assert verify(check_for("tls_wrong_ca", topology=POOLED), {"error": error}, pooler_log=aborted).problems == []
    problems = verify(check_for("tls_wrong_ca", topology=POOLED), {"error": error}).problems
    assert problems == ["PgBouncer saw no TLS handshake aborted by a client during the case: "
                        "the example did not try TLS against it"]


def test_connect_latency_behind_pgbouncer_does_not_assert_which_is_faster() -> None:
    # node/pg-client@pgbouncer-transaction turned with load: a login at PgBouncer opens no server
    # connection, so a query through it may well take longer than a "connect".
    data = {"connect_ms": [0.8] * 30, "query_ms": [1.2] * 30, "pooled": False}
    logins = [line for c in range(30) for line in pooler_client(c, 0.01 * c, 0.01 * c + 0.005)]
    verdict = verify(check_for("connect_latency", topology=POOLED), data, log=session_of(900, 0.0), pooler_log=logins)
    assert verdict.problems == []
    assert verdict.observed["query_below_connect"].startswith("not asserted through PgBouncer")
    direct = [line for pid in range(30) for line in session_of(200 + pid, 0.1 * pid, 0.1 * pid + 0.05)]
    problems = verify(check_for("connect_latency"), data, log=direct).problems
    assert problems == ["a query on an open connection (p50 1.20 ms) is not faster than a new connection (p50 0.80 ms)"]


def test_tls_wrong_host_behind_pgbouncer_leaves_pgbouncers_own_server_sessions_out() -> None:
    # Once in CI: PgBouncer's min_pool_size connection logged in during the case (its timer, not
    # the example, which never logged in at PgBouncer) and failed the case as a session let through.
    error = {"kind": "certificate", "type": "PSQLException", "message": "The hostname 127.0.0.2 could not be verified"}
    own = session_of(900, 0.2)
    verdict = verify(check_for("tls_wrong_host", topology=POOLED), {"error": error}, log=own)
    assert verdict.problems == [] and verdict.observed["pooler_server_sessions"] == 1
    # A login at PgBouncer is the example's: then the server's sessions count again.
    problems = verify(check_for("tls_wrong_host", topology=POOLED), {"error": error}, log=own,
                      pooler_log=pooler_client(1, 0.1)).problems
    assert problems[0].startswith("the server authorized 1 session(s) of the example's role")
    assert problems[1].startswith("PgBouncer logged 1 login(s) of the example: the certificate was accepted")


def test_connect_latency_behind_pgbouncer_counts_logins_there() -> None:
    data = {"connect_ms": [1.0] * 30, "query_ms": [0.3] * 30, "pooled": False}
    logins = [line for c in range(30) for line in pooler_client(c, 0.01 * c, 0.01 * c + 0.005)]
    verdict = verify(check_for("connect_latency", topology=POOLED), data, log=session_of(900, 0.0), pooler_log=logins)
    assert verdict.problems == [] and verdict.observed["server_connections"] == 1
    problems = verify(check_for("connect_latency", topology=POOLED), data, pooler_log=logins[:20]).problems
    assert problems == ["PgBouncer logged 10 login(s) of the example, fewer than the 30 fresh connections reported"]


def test_a_scenario_that_means_nothing_behind_pgbouncer_is_na_there_only() -> None:
    for name in ("plaintext_refused", "no_pool_exhaustion"):
        check = REGISTRY[name]
        assert check.not_behind("direct") is None
        reason = check.not_behind(POOLED)
        assert reason is not None and reason.startswith(f"n/a through {POOLED}: ")
    assert REGISTRY["pool_bounded"].not_behind(POOLED) is None


def test_a_known_incompatibility_is_expected_only_with_its_documented_error() -> None:
    known = KnownFailure("auth_wrong_password", "PgBouncer answers for the server",
                         ExpectedError(messages=("SASL authentication failed",)))
    shows = Finding("auth_wrong_password", problems=("data.error.kind is 'other'",), topology=POOLED,
                    stderr="FATAL: SASL authentication failed")
    assert judge(example(), shows, known_behind_pooler=known).outcome is Outcome.XFAILED
    other = replace(shows, stderr="connection refused")
    result = judge(example(), other, known_behind_pooler=known)
    assert result.outcome is Outcome.FAILED and "SASL authentication failed" in result.message
    passed = judge(example(), Finding("auth_wrong_password", topology=POOLED), known_behind_pooler=known)
    assert passed.outcome is Outcome.XPASSED and "spec/pgbouncer.yaml" in passed.message
    assert passed.topology == POOLED


def test_an_intermittent_incompatibility_allows_a_pass_but_a_failure_must_show_one_of_its_errors() -> None:
    names = tuple(SPEC_LOADED.names)
    known = known_behind_pooler(SPEC, names, "java/hikaricp", "pool_release", POOLED)
    assert known is not None and known.intermittent and known.expected.sqlstates == ("26000", "42P05")
    failing = Finding("pool_release", problems=("the work: 6 of 8 succeeded, 2 failed; errors: ['42P05']",),
                      stderr='ERROR: prepared statement "S_3" already exists',
                      topology=POOLED)
    assert judge(example(), failing, known_behind_pooler=known).outcome is Outcome.XFAILED
    other = Finding("pool_release", problems=("the work: 7 of 8 succeeded, 1 failed; errors: ['08P01']",),
                    topology=POOLED)
    assert judge(example(), other, known_behind_pooler=known).outcome is Outcome.FAILED
    passed = judge(example(), Finding("pool_release", topology=POOLED), known_behind_pooler=known)
    assert passed.outcome is Outcome.PASSED and "known to fail in some runs" in passed.message
    assert known_behind_pooler(SPEC, names, "node/pg-pool", "pool_release", POOLED) is None


def test_behind_pgbouncer_a_warm_pools_statements_prove_the_output_came_from_the_server() -> None:
    statement = record(0.2, "execute <unnamed>: SELECT id, name FROM users ORDER BY id", pid=4242)
    check = check_for("select_rows", topology=POOLED)
    verify(check, {}, log=[statement])
    assert not check.ctx.reached_server()   # no login at PgBouncer: not this example's client
    check = check_for("select_rows", topology=POOLED)
    verify(check, {}, log=[statement], pooler_log=pooler_client(1, 0.1, 0.5))
    assert check.ctx.reached_server() and check.ctx.served_by_server() == {4242}
    direct = check_for("select_rows")
    verify(direct, {}, log=[statement])
    assert not direct.ctx.reached_server()  # straight to the server only a login of the case counts


def test_spec_pgbouncer_yaml_loads_and_covers_the_pooled_topologies_only() -> None:
    names = tuple(SPEC_LOADED.names)
    assert load_incompatibilities(SPEC, names)
    assert known_behind_pooler(SPEC, names, "node/pg-client", "auth_wrong_password", POOLED) is not None
    assert known_behind_pooler(SPEC, names, "node/pg-client", "auth_wrong_password", "direct") is None
    assert DBNAME


def test_a_driver_fix_is_a_setting_passed_from_outside_in_a_topology_of_its_own() -> None:
    from pathlib import Path

    from harness.pooler.fixes import applied, fix_of, fixes_for
    fixes = fixes_for(SPEC, "java/hikaricp", POOLED)
    assert [f.name for f in fixes] == ["prepareThreshold=0"]
    assert fixes_for(SPEC, "java/hikaricp", "pgbouncer-session") == []
    assert fixes_for(SPEC, "node/pg-pool", POOLED) == []
    fix = fix_of(SPEC, f"{POOLED}+prepareThreshold=0")
    assert fix is fixes[0] and fix_of(SPEC, POOLED) is None
    with applied(fix) as env:
        option = env["JAVA_TOOL_OPTIONS"]
        properties = Path(option.split("=", 1)[1])
        assert properties.read_text() == "dataSource.prepareThreshold=0\n"
    assert not properties.parent.exists()
    # The scenarios it resolves must pass in its row; its topology's other known failures stay.
    assert {"transaction", "pool_release", "story_pool_exhaustion"} <= set(fix.resolves)
    # The story's pooled half as written is a known failure of pgjdbc (named statements); the fix's row must pass.
    story = known_behind_pooler(SPEC, tuple(SPEC_LOADED.names), "java/hikaricp", "story_pool_exhaustion", POOLED)
    assert story is not None and story.expected.messages == (r'prepared statement "S_\d+"',) and not story.intermittent
    assert known_behind_pooler(SPEC, tuple(SPEC_LOADED.names), "node/pg-pool", "story_pool_exhaustion", POOLED) is None
    assert {"transaction", "pool_release", "story_pause_resume_cutover", "story_pause_resume_limit"} <= set(fix.resolves)
    assert known_behind_pooler(SPEC, tuple(SPEC_LOADED.names), "java/hikaricp", "auth_wrong_password", POOLED) is not None
