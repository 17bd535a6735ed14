"""The checks of harness/scenarios, each given a case observed as a test says (tests/fakes.py):
no PostgreSQL. Each test states what the server's record shows and what the check must make of
it; the wrong examples in tests/bad_examples prove the same checks against a real server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from harness.process import ProcessRun
from harness.scenarios.base import ScenarioCheck
from tests.fakes import (DBNAME, ROLE, T0, FakeControls, check_for, record, session_of, timeline, verify)

USERS = [(1, "Ada Lovelace"), (2, "Zoë O'Connor"), (3, "李小龍"), (4, "Émile Zola")]


def fixture_rows() -> list[dict[str, object]]:
    return check_for("select_rows").ctx.spec.fixture.user_rows()


# -- core -----------------------------------------------------------------------------------------

def test_select_rows_passes_the_fixture_and_diffs_a_mangled_name() -> None:
    rows = fixture_rows()
    assert verify(check_for("select_rows"), {"rows": rows}).problems == []
    mangled = [dict(r) for r in rows]
    mangled[1]["name"] = mangled[1]["name"].encode().decode("latin-1")
    verdict = verify(check_for("select_rows"), {"rows": mangled})
    assert verdict.problems == ["data.rows differs from the spec"]
    assert mangled[1]["name"] in verdict.diffs[0]


def test_connect_now_must_be_the_servers_clock_and_leave_no_backend() -> None:
    inside = (T0 + timedelta(milliseconds=500)).isoformat() + "+00:00"
    assert verify(check_for("connect_now"), {"now": inside}).problems == []
    outside = (T0 - timedelta(hours=1)).isoformat() + "+00:00"
    assert "is not the server's clock" in verify(check_for("connect_now"), {"now": outside}).problems[0]
    left = verify(check_for("connect_now"), {"now": inside}, backends_left=2).problems
    assert left == ["2 backend(s) of the example still open 2 s after it exited"]


def test_error_sqlstate_needs_the_servers_own_errors() -> None:
    data = {"unique_violation": "23505", "syntax_error": "42601", "after": 1}
    logged = [record(0.1, "duplicate key", severity="ERROR", state="23505"),
              record(0.2, "syntax error", severity="ERROR", state="42601")]
    assert verify(check_for("error_sqlstate"), data, log=logged).problems == []
    made_up = verify(check_for("error_sqlstate"), data, log=logged[:1]).problems
    assert made_up == ["the server logged no ERROR with SQLSTATE 42601 for this case"]


def test_param_query_reads_the_binding_from_the_log_and_judges_it_against_the_manifest() -> None:
    users = [(row["id"], row["name"]) for row in fixture_rows()]   # the server's table, intact
    controls = FakeControls(rows={"FROM users": users})
    check = check_for("param_query", controls, binding="server")
    assert ("setting", ("standard_conforming_strings", "off")) not in controls.actions
    check.prepare()
    assert controls.actions == [("setting", ("standard_conforming_strings", "off"))]
    data = {"by_id": check.expect["by_id"], "by_name": check.expect["by_name"]}
    bound = [record(0.1, "execute <unnamed>: SELECT id, name FROM users WHERE id = $1")]
    verdict = verify(check, data, log=bound)
    assert verdict.observed["binding"] == "server-side" and verdict.problems == []
    interpolated = [record(0.1, "statement: SELECT id, name FROM users WHERE id = 2")]
    client = verify(check_for("param_query", controls, binding="client"), data, log=interpolated)
    assert client.observed["binding"] == "client-side" and client.problems == []
    mismatch = verify(check_for("param_query", controls, binding="server"), data, log=interpolated).problems
    assert len(mismatch) == 1 and "client-side" in mismatch[0]
    undeclared = verify(check_for("param_query", controls), data, log=bound).problems
    assert len(undeclared) == 1 and "driver.binding is missing" in undeclared[0]
    injected = FakeControls(rows={"FROM users": [*users, (9, "x'); DROP TABLE users; --")]})
    problems = verify(check_for("param_query", injected, binding="server"), data, log=bound).problems
    assert problems == ["users table on the server after the run differs from the spec"]


# -- pools ----------------------------------------------------------------------------------------

def burst(n: int) -> dict[str, object]:
    return {"succeeded": n, "failed": 0, "errors": []}


def test_pool_bounded_counts_open_connections_from_the_log() -> None:
    within = [line for pid in range(4) for line in session_of(200 + pid, 0.1 + pid * 0.01, 1.0)]
    activity = timeline(0, 2, 4, 4, 0)
    data = {**burst(16), "elapsed_ms": 900}
    verdict = verify(check_for("pool_bounded"), data, log=within, activity=activity)
    assert verdict.problems == [] and verdict.observed["peak_open"] == 4
    over = within + session_of(300, 0.5, 0.9)
    problems = verify(check_for("pool_bounded"), data, log=over, activity=activity).problems
    assert problems == ["the pool opened 5 connections at once; its max is 4 (connection log)"]
    serial = verify(check_for("pool_bounded"), data, log=within, activity=timeline(0, 1, 1, 0)).problems
    assert serial == ["at most 1 queries ran at once: the burst did not run concurrently"]


def test_a_refused_backend_never_counts_as_open() -> None:
    refused = session_of(400, 0.2) + [record(0.21, "too many connections", pid=400, severity="FATAL", state="53300")]
    within = [line for pid in range(4) for line in session_of(200 + pid, 0.1, 1.0)]
    verdict = verify(check_for("pool_bounded"), {**burst(16), "elapsed_ms": 900}, log=within + refused,
                     activity=timeline(4, 4))
    assert verdict.observed["peak_open"] == 4


def test_pool_reuse_needs_pids_the_server_saw() -> None:
    log = [line for pid in (200, 201) for line in session_of(pid, 0.1, 2.0)]
    assert verify(check_for("pool_reuse"), {"pids": [200, 201] * 25}, log=log).problems == []
    problems = verify(check_for("pool_reuse"), {"pids": [200, 999] * 25}, log=log).problems
    assert problems == ["data.pids names backends the server never saw for this case"]


def test_pool_release_looks_at_the_backends_at_its_checkpoints() -> None:
    controls = FakeControls(backends_now=[(200, "idle"), (201, "idle in transaction")], gone=(True, 0.3, 0))
    check = check_for("pool_release", controls)
    check.on_checkpoint("after_work")
    check.on_checkpoint("after_close")
    problems = verify(check, burst(check.ctx.params["concurrency"])).problems
    assert problems == ["1 backend(s) were 'idle in transaction' after the work: a connection was not released "
                        "(commit/rollback missing)"]


def test_a_failed_client_gone_at_its_checkpoint_was_closed_though_its_disconnection_is_logged_later() -> None:
    # PostgreSQL writes a backend's "disconnection" after the backend has left pg_stat_activity,
    # so the line can carry a time after the checkpoint that saw it gone (CI: node/pg-pool).
    def problems(backends_at_error: list[tuple[int, str]]) -> list[str]:
        controls = FakeControls(backends_now=backends_at_error, rows={"FROM users WHERE id": [(0,)]},
                                clock=T0 + timedelta(seconds=0.5))
        check = check_for("pool_release_on_error", controls)
        check.on_checkpoint("after_error")
        check.on_checkpoint("after_close")
        log = session_of(200, 0.1) + [record(0.3, "duplicate key value", pid=200, severity="ERROR", state="23505"),
                                      record(0.6, "disconnection: session time: 0:00:00.5", pid=200)]
        return verify(check, {"failed_sqlstate": "23505", "after": 1, "pid": 200}, log=log).problems

    assert problems([]) == []
    stuck = problems([(200, "idle in transaction (aborted)")])
    assert any("backend 200, whose statement failed, was neither rolled back nor closed" in p for p in stuck)


def test_no_pool_exhaustion_sets_the_roles_limit_through_the_controls() -> None:
    controls = FakeControls()
    check = check_for("no_pool_exhaustion", controls)
    check.prepare()
    assert controls.actions == [("connection_limit", 20)]
    controls.clock = T0 + timedelta(seconds=1)
    check.on_checkpoint("after_pooled")   # the pooled half is done: the log up to here is its
    refusal = [record(0.3, "too many connections for role", severity="FATAL", state="53300")]
    data = {"pooled": burst(100), "unpooled": {"succeeded": 20, "failed": 80, "errors": ["53300"] * 80}}
    assert verify(check, data, log=refusal).problems == []
    never_reported = verify(check_for("no_pool_exhaustion"), data, log=refusal).problems
    assert never_reported == ["the example never reached checkpoint after_pooled (print it once the pooled half's "
                              "pool is closed, before the connection-per-request half)"]
    nothing_refused = check_for("no_pool_exhaustion", controls)
    nothing_refused.on_checkpoint("after_pooled")
    assert verify(nothing_refused, data).problems == ["the server logged no refusal with SQLSTATE 53300"]


def test_no_pool_exhaustion_widens_to_one_connection_per_request_when_timing_kept_them_apart() -> None:
    # Under load 100 connections, each over in 0.2 s, may never be 21 open at once: then nothing
    # can be refused, and the verdict is the connection count's (and says so).
    all_succeeded = {"pooled": burst(100), "unpooled": {"succeeded": 100, "failed": 0, "errors": []}}

    def after_pooled() -> ScenarioCheck:
        check = check_for("no_pool_exhaustion", FakeControls(clock=T0 + timedelta(seconds=1)))
        check.on_checkpoint("after_pooled")
        return check

    apart = [line for i in range(100) for line in session_of(300 + i, 1.1 + 0.02 * i, 1.1 + 0.02 * i + 0.3)]
    verdict = verify(after_pooled(), all_succeeded, log=apart)
    assert verdict.problems == [] and verdict.observed["unpooled_peak_open"] == 15
    assert verdict.observed["timing_decided"].startswith("the 100 connection-per-request requests each opened a "
                                                         "connection (100), but at most 15 were open at once")
    # A "connection per request" that is really a pool of 10 opens 10: no widening for it.
    pooled = [line for i in range(10) for line in session_of(300 + i, 1.1, 3.0)]
    problems = verify(after_pooled(), all_succeeded, log=pooled).problems
    assert problems[0] == ("100 connections at once under a limit of 20 all succeeded: the connection-per-request "
                           "half did not exhaust the server")


def test_recovery_checks_apply_their_fault_through_the_controls() -> None:
    controls = FakeControls(backends_now=[(200, "idle"), (201, "idle")])
    terminate = check_for("pool_recovery_terminate", controls)
    terminate.on_checkpoint("between_bursts")
    assert [a for a, _ in controls.actions] == ["terminate", "wait_gone"]
    restarted = FakeControls(backends_now=[(200, "idle")])
    restart = check_for("pool_recovery_restart", restarted)
    assert restart.exclusive
    restart.on_checkpoint("between_bursts")
    assert restarted.actions == [("restart", None)]
    data = {"first": burst(8), "second": burst(8)}
    assert verify(restart, data).problems == []
    empty = check_for("pool_recovery_terminate", FakeControls())
    empty.on_checkpoint("between_bursts")
    assert verify(empty, data).problems == ["the pool held no connection at the checkpoint: the fault hit nothing"]


# -- lifecycle ------------------------------------------------------------------------------------

def test_tls_verify_full_believes_pg_stat_ssl_not_the_example() -> None:
    encrypted = {"pid": 200, "ssl": True, "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384"}
    check = check_for("tls_verify_full", FakeControls(tls_now=[encrypted]))
    check.on_checkpoint("connected")
    data = {"ssl": True, "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384"}
    assert verify(check, data, log=session_of(200, 0.1, 0.5, tls=True)).problems == []
    plain = check_for("tls_verify_full", FakeControls(tls_now=[{**encrypted, "ssl": False}]))
    plain.on_checkpoint("connected")
    problems = verify(plain, data, log=session_of(200, 0.1, 0.5)).problems
    assert problems[0].startswith("pg_stat_ssl shows backend(s) [200] unencrypted")
    assert problems[1] == "data.ssl says true, but the server's pg_stat_ssl says the backend is not encrypted"


def test_tls_wrong_ca_needs_a_refusal_and_the_servers_aborted_handshake() -> None:
    error = {"kind": "certificate", "type": "SSLError", "message": "certificate verify failed"}
    aborted = [record(0.1, "could not accept SSL connection: tlsv1 alert unknown ca", user="", dbname="")]
    assert verify(check_for("tls_wrong_ca"), {"error": error}, log=aborted).problems == []
    problems = verify(check_for("tls_wrong_ca"), {"error": {"kind": "none"}}, log=session_of(200, 0.1, 0.2)).problems
    assert problems[0].startswith("the connection succeeded although the root certificate given") and \
        "certificate verification is off" in problems[0]
    assert problems[1].startswith("the server authorized 1 session(s) of the example's role")


def test_plaintext_refused_forces_hostssl_through_the_controls() -> None:
    controls = FakeControls()
    check = check_for("plaintext_refused", controls)
    check.prepare()
    assert controls.actions == [("hostssl", True)]


def test_auth_wrong_password_times_the_exit_from_the_servers_refusal() -> None:
    refused = [record(0.5, "password authentication failed for user", severity="FATAL", state="28P01")]
    error = {"kind": "auth", "sqlstate": "28P01", "message": "FATAL: password authentication failed for user"}
    # The process started at T0 (the log's clock, UTC); the server refused it 0.5 s later.
    prompt = ProcessRun(argv=["x"], started_wall=_wall(T0), exited_at=1.0, result_at=0.9)
    assert verify(check_for("auth_wrong_password"), {"error": error, "elapsed_ms": 40}, log=refused,
                  process=prompt).problems == []
    lingering = ProcessRun(argv=["x"], started_wall=_wall(T0), exited_at=4.0, result_at=0.9)
    problems = verify(check_for("auth_wrong_password"), {"error": error, "elapsed_ms": 40}, log=refused,
                      process=lingering).problems
    assert problems == ["the program exited 3.5 s after the server first refused the password (limit 2 s): "
                        "something (a retrying pool, a timer, a thread) keeps it alive"]


def test_auth_wrong_password_judges_from_the_first_refusal_and_counts_retries() -> None:
    # Five refusals over 3.2 s, the program gone 0.5 s after the last: from the first, 3.7 s.
    refused = [record(0.5 + 0.8 * i, "password authentication failed for user", severity="FATAL", state="28P01",
                      pid=300 + i) for i in range(5)]
    error = {"kind": "auth", "sqlstate": "28P01", "message": "FATAL: password authentication failed for user"}
    retrying = ProcessRun(argv=["x"], started_wall=_wall(T0), exited_at=4.2, result_at=4.1)
    verdict = verify(check_for("auth_wrong_password"), {"error": error, "elapsed_ms": 3700}, log=refused,
                     process=retrying)
    assert verdict.problems == ["the program exited 3.7 s after the server first refused the password (limit 2 s); "
                                "it tried the wrong password 5 times (over 3.2 s): a login the server refused is "
                                "retried (a pool's retry loop), and a wrong password never succeeds"]
    assert verdict.observed["login_retries"] == 4


def test_a_swallowed_login_error_is_named_against_the_servers_refusal() -> None:
    refused = [record(0.5, 'password authentication failed for user "ex"', severity="FATAL", state="28P01")]
    prompt = ProcessRun(argv=["x"], started_wall=_wall(T0), exited_at=1.0, result_at=0.9)
    problems = verify(check_for("auth_wrong_password"), {"error": {"kind": "none"}, "elapsed_ms": 40}, log=refused,
                      process=prompt).problems
    assert problems[0].startswith("the example reports that the connection succeeded, but the server refused it "
                                  "(FATAL 28P01: password authentication failed") and \
        "and authorized no session: the client swallowed the login error" in problems[0]
    # A real success (a session authorized) stays "the connection succeeded".
    accepted = verify(check_for("auth_wrong_password"), {"error": {"kind": "none"}, "elapsed_ms": 40},
                      log=session_of(200, 0.2), process=prompt).problems
    assert accepted[0].startswith("the connection succeeded; the driver must refuse it")


def _wall(moment: datetime) -> float:
    return moment.replace(tzinfo=timezone.utc).timestamp()


def test_connect_latency_reports_figures_and_the_tls_it_used() -> None:
    log = [line for pid in range(30) for line in session_of(200 + pid, 0.1 * pid, 0.1 * pid + 0.05)]
    data = {"connect_ms": [5.0 + i * 0.1 for i in range(30)], "query_ms": [0.3] * 30, "pooled": False}
    verdict = verify(check_for("connect_latency"), data, log=log)
    assert verdict.problems == []
    assert verdict.observed["tls"] is False and verdict.observed["connect_p50_ms"] == 6.4
    assert verdict.observed["server_auth_p50_ms"] == 4.0
    problems = verify(check_for("connect_latency_tls"), data, log=log).problems
    assert problems == ["30 connection(s) were not encrypted, but the scenario connects with TLS"]


def test_every_scenario_of_the_spec_has_a_check() -> None:
    from harness.scenarios import REGISTRY
    from tests.fakes import SPEC_LOADED
    assert set(SPEC_LOADED.names) <= set(REGISTRY), sorted(set(SPEC_LOADED.names) - set(REGISTRY))
    assert ROLE and DBNAME
