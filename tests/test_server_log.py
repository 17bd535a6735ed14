"""Reading the server's log for a case, against a real server: the marker the harness logs makes
the read complete, and a backend that has left pg_stat_activity is waited for until its
"disconnection" line is in (PostgreSQL writes it after the backend leaves pg_stat_activity)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from harness.observe import ServerLog
from harness.server.base import ServerSettings
from harness.server.native import NativeServer

ROLE, PASSWORD, DBNAME = "log_role", "log-password", "log_db"


@pytest.fixture(scope="module")
def server() -> Iterator[NativeServer]:
    with NativeServer(ServerSettings(superuser_password="unused")) as running:
        with psycopg.connect(running.admin.conninfo(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
            conn.execute(f"CREATE DATABASE {DBNAME} OWNER {ROLE}")
        yield running


class LateDisconnections(ServerLog):
    """The log as a busy machine may write it: each "disconnection" line reaches the file only
    after `late` reads, after the harness's marker, though its backend is gone already. The file
    it shows is the real one with those lines moved to its end (held back until then)."""

    def __init__(self, admin_conninfo: str, late: int) -> None:
        super().__init__(admin_conninfo)
        self.late, self.reads = late, 0
        self.start: int | None = None

    def _read_lines(self, offset: int) -> list[bytes]:
        self.reads += 1
        self.start = offset if self.start is None else self.start
        real = super()._read_lines(self.start)
        held = [line for line in real if b'"message":"disconnection' in line]
        shown = [line for line in real if line not in held] + (held if self.reads > self.late else [])
        position, lines = self.start, []
        for line in shown:
            if position >= offset:
                lines.append(line)
            position += len(line)
        return lines


def session(server: NativeServer) -> int:
    with psycopg.connect(host=server.endpoint.host, port=server.endpoint.port, user=ROLE, password=PASSWORD,
                         dbname=DBNAME, sslmode="disable") as conn:
        return int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])


def gone(server: NativeServer, pid: int) -> None:
    with psycopg.connect(server.admin.conninfo(), autocommit=True) as conn:
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            time.sleep(0.01)


def test_a_gone_backends_late_disconnection_is_waited_for(server: NativeServer) -> None:
    log = LateDisconnections(server.admin.conninfo(), late=5)
    offset = log.end_offset()
    pid = session(server)
    gone(server, pid)
    records = log.read_through(offset, DBNAME)
    assert any(r.pid == pid and r.message.startswith("disconnection") for r in records), \
        f"read {log.reads} times, the disconnection of backend {pid} is missing"
    assert log.reads > 5


def test_without_the_database_the_read_ends_at_the_marker(server: NativeServer) -> None:
    log = LateDisconnections(server.admin.conninfo(), late=5)
    offset = log.end_offset()
    pid = session(server)
    gone(server, pid)
    records = log.read_through(offset)
    assert not any(r.pid == pid and r.message.startswith("disconnection") for r in records)


def test_a_refused_backend_is_owed_nothing(server: NativeServer) -> None:
    # Refused after authentication (the role's limit): "connection authorized", then FATAL, and
    # no disconnection line ever; the read must not wait its whole bound for one.
    with psycopg.connect(server.admin.conninfo(), autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {ROLE} CONNECTION LIMIT 0")
    try:
        log = ServerLog(server.admin.conninfo())
        offset = log.end_offset()
        with pytest.raises(psycopg.OperationalError, match="too many connections"):
            session(server)
        started = time.monotonic()
        records = log.read_through(offset, DBNAME, within=5.0)
        assert any(r.severity == "FATAL" and r.state_code == "53300" for r in records)
        assert time.monotonic() - started < 2.5
    finally:
        with psycopg.connect(server.admin.conninfo(), autocommit=True) as conn:
            conn.execute(f"ALTER ROLE {ROLE} CONNECTION LIMIT -1")


class LateCollector(ServerLog):
    """The log as a busy machine writes it: the logging collector still holds what was logged
    from backend `pid`'s `connection authorized` on (in order) until `late` reads have passed.
    The file it shows is the real one cut before that line until then."""

    def __init__(self, admin_conninfo: str, pid: int, late: int) -> None:
        super().__init__(admin_conninfo)
        self.pid, self.late, self.reads = pid, late, 0

    def _visible(self) -> bytes:
        real = b"".join(super()._read_lines(0))
        if self.reads > self.late:
            return real
        held = real.find(f'"pid":{self.pid},'.encode())
        return real if held < 0 else real[: real.rfind(b"\n", 0, held) + 1]

    def _size(self) -> int:
        return len(self._visible())

    def _read_lines(self, offset: int) -> list[bytes]:
        self.reads += 1
        return self._visible()[offset:].splitlines(keepends=True)


def test_a_session_logged_before_the_case_stays_out_of_its_window(server: NativeServer) -> None:
    # tls_wrong_host@pgbouncer-transaction once failed with "the server authorized 1 session(s)":
    # PgBouncer's warm server connection, logged in before the case, whose `connection
    # authorized` the collector wrote after the case's offset was taken.
    with psycopg.connect(host=server.endpoint.host, port=server.endpoint.port, user=ROLE, password=PASSWORD,
                         dbname=DBNAME, sslmode="disable") as before_the_case:
        pid = int(before_the_case.execute("SELECT pg_backend_pid()").fetchone()[0])
        log = LateCollector(server.admin.conninfo(), pid, late=5)
        offset = log.end_offset()
        records = log.read_through(offset)
    assert log.reads > 5, "the collector never held the line back: the test proves nothing"
    assert not [r for r in records if r.pid == pid and r.message.startswith("connection authorized")]
