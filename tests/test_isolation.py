"""Isolation and secrets: the server listens only on loopback and a private socket dir; each
example's role reaches only its own databases; the run's password never shows in a result."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.support import BadRun


def _role_conninfo(bad: BadRun, role: str, dbname: str) -> str:
    server = bad.session.server
    assert server is not None
    return f"host=127.0.0.1 port={server.port} user={role} password={bad.session.password} dbname={dbname}"


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


def test_the_password_is_masked_in_results(bad: BadRun) -> None:
    # bad/leaky prints the password on stdout and the connection URL on stderr, then fails.
    session = bad.session
    result = bad.case("bad/leaky", "connect_now")
    assert result.failure is not None
    shown = json.dumps(result.to_json()) + result.failure.render()
    assert "********" in shown
    assert session.password not in shown
