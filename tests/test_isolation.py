"""Isolation and secrets: the server listens only on loopback and a private socket dir; each
example's role reaches only its own databases; an example cannot become the superuser or
another example's role, over TCP or through any run's socket; no password of the run shows in
a result, a report or an example's environment (hostile examples under bad_examples/hostile)."""

from __future__ import annotations

import json

import psycopg
import pytest

from harness.credentials import MASK
from harness.server.base import ServerSettings
from harness.server.native import NativeServer
from tests.support import BadRun


def _role_conninfo(bad: BadRun, role: str, dbname: str) -> str:
    server = bad.session.server
    assert server is not None
    password = bad.session.credentials.for_role(role)
    return f"host=127.0.0.1 port={server.port} user={role} password={password} dbname={dbname}"


def test_an_example_cannot_reach_another_examples_database(bad: BadRun) -> None:
    session = bad.session
    session.start()
    assert session.janitor is not None
    mine = session.janitor.create_case_database("bad/isolation-a", "select_rows")
    theirs = session.janitor.create_case_database("bad/isolation-b", "select_rows")
    try:
        with psycopg.connect(_role_conninfo(bad, mine.role, mine.dbname)) as conn:
            assert conn.execute("SELECT count(*) FROM users").fetchone()[0] > 0
        with pytest.raises(psycopg.OperationalError) as refused:
            psycopg.connect(_role_conninfo(bad, mine.role, theirs.dbname))
        assert "permission denied for database" in str(refused.value)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(_role_conninfo(bad, mine.role, "harness_template"))
    finally:
        session.janitor.drop_case_database(mine)
        session.janitor.drop_case_database(theirs)


def test_every_role_has_its_own_password_and_the_superuser_another(bad: BadRun) -> None:
    credentials = bad.session.credentials
    a, b = credentials.for_role("ex_a"), credentials.for_role("ex_b")
    assert len({a, b, credentials.superuser}) == 3
    assert credentials.for_role("ex_a") == a


def test_the_server_listens_only_on_loopback_and_a_private_socket(bad: BadRun) -> None:
    session = bad.session
    session.start()
    server = session.server
    assert server is not None
    with psycopg.connect(server.admin_conninfo(), autocommit=True) as conn:
        # 127.0.0.2 too: loopback, an address the certificate does not name (tls_wrong_host)
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1,127.0.0.2"
        socket_dir = conn.execute("SHOW unix_socket_directories").fetchone()[0]
    assert socket_dir.startswith(str(server.root)), "the socket dir must be private to the run"


def test_an_example_is_refused_as_the_superuser_another_role_and_through_any_socket(bad: BadRun) -> None:
    """hostile/intruder tries the superuser (with its own password and none) over TCP and
    through the socket of its own run's server and of a second server running meanwhile, and
    another example's role; only its own role gets in."""
    session = bad.session
    session.start()
    assert session.janitor is not None and isinstance(session.server, NativeServer)
    victim = session.janitor.ensure_role("hostile/victim")
    with NativeServer(ServerSettings(superuser_password="another-run-secret")) as other_run:
        targets = {"victim_role": victim, "sockets": [[str(s.socket_dir), s.port] for s in (session.server, other_run)]}
        (bad.state_dir / "intruder-targets.json").write_text(json.dumps(targets))
        result = bad.case("hostile/intruder", "connect_now")
        attempts = json.loads((bad.state_dir / "intruder.json").read_text())
    assert attempts.pop("control: my own role over TCP") == "connected", attempts
    assert len(attempts) == 8, attempts
    got_in = {name: outcome for name, outcome in attempts.items() if not outcome.startswith("refused")}
    assert got_in == {}, f"the example got in: {got_in}"
    assert result.outcome.value == "passed", result.message  # it did its own job, and nothing else
    # Its environment holds its own role's password and no other secret of the run.
    environment = (bad.state_dir / "intruder-env.json").read_text()
    assert session.credentials.superuser not in environment
    assert session.credentials.for_role(victim) not in environment


def test_the_superuser_over_tcp_is_refused_even_with_its_password(bad: BadRun) -> None:
    session = bad.session
    session.start()
    assert session.server is not None
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(host="127.0.0.1", port=session.server.port, user="postgres",
                        password=session.credentials.superuser, dbname="postgres", sslmode="disable")
    assert "pg_hba.conf rejects connection" in str(refused.value)


def test_the_password_is_masked_in_results(bad: BadRun) -> None:
    # bad/leaky prints the password on stdout and the connection URL on stderr, then fails.
    session = bad.session
    result = bad.case("bad/leaky", "connect_now")
    assert result.failure is not None
    shown = json.dumps(result.to_json()) + result.failure.render()
    assert MASK in shown
    for secret in session.credentials.secrets():
        assert secret not in shown


def test_a_password_in_the_data_and_in_the_statements_is_masked(bad: BadRun) -> None:
    """hostile/leaky-data returns its password as data (the diff shows it) and sends it in a
    statement (what the server saw shows it): both are masked, and no secret of the run
    reaches results.json, the HTML or JUnit."""
    from harness.outcome import ExampleResult, RunResult
    from harness.reporting import write_reports

    result = bad.case("hostile/leaky-data", "select_rows")
    assert result.failure is not None
    assert MASK in result.failure.diff, result.failure.diff
    assert MASK in result.failure.server_view, result.failure.server_view
    example = ExampleResult("hostile/leaky-data", "hostile", "psycopg 3", scenarios=[result])
    example.settle()
    run = RunResult(backend="native", postgres="15", examples=[example])
    out = bad.state_dir / "leaky-reports"
    write_reports(run.to_json(), out)
    written = json.dumps(run.to_json()) + "".join(
        p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    for secret in bad.session.credentials.secrets():
        assert secret not in written
