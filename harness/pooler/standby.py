"""The run's second PostgreSQL server, the target of the cutover story (PAUSE, point the database
at another server, RESUME). It is made like the first, by the run's backend (a native cluster,
or a container on --backend docker), with the same fixture template; it starts when the first
cutover case needs it and stops, with everything it made, when the session closes (also on
Ctrl-C; a killed run's cluster is reaped like the first's)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
from psycopg import sql

from harness.janitor import CaseDatabase, Janitor
from harness.server.base import Admin, PostgresServer
from harness.spec import Fixture


class StandbyServer:
    def __init__(self, make: Callable[[], PostgresServer], password_for: Callable[[str], str]) -> None:
        self._make = make
        self._password_for = password_for
        self.server: PostgresServer | None = None
        self.janitor: Janitor | None = None
        self._lock = threading.Lock()   # two examples' cutover cases (-j) may ask at once

    def get(self, fixture: Fixture) -> tuple[PostgresServer, Janitor]:
        with self._lock:
            if self.server is None:
                server = self._make()
                self.server = server   # known before it starts: a Ctrl-C during start still reaches stop()
                server.start()
                with psycopg.connect(server.admin.conninfo(), autocommit=True) as conn:
                    major = int(conn.info.server_version // 10000)
                self.janitor = Janitor(server.admin.conninfo, self._password_for, major)
                self.janitor.load_template(fixture)
            assert self.janitor is not None
            return self.server, self.janitor

    def mirror(self, source: Admin, example_id: str, scenario: str, role_index: int, fixture: Fixture) -> CaseDatabase:
        """The case database on this server, from the same template and owned by the same role
        with the same SCRAM secret as on `source`: PgBouncer logs in to either with the keys it
        took from the client (its auth_file holds the first server's secret)."""
        _server, janitor = self.get(fixture)
        db = janitor.create_case_database(example_id, scenario, role_index)   # the same name and role as on `source`
        with psycopg.connect(source.conninfo(), autocommit=True) as conn:
            secret = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [db.role]).fetchone()[0]
        with psycopg.connect(self.admin.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(db.role), sql.Literal(secret)))
        return db

    @property
    def admin(self) -> Admin:
        assert self.server is not None
        return self.server.admin

    def stop(self) -> None:
        with self._lock:
            server, self.server, self.janitor = self.server, None, None
        if server is not None:
            server.stop()
