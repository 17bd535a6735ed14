"""The live CaseControls: the case's actions and looks, done on the run's server through the
superuser connection (`admin`), limited to the case's role and database. Every action is undone
by undo() when the case ends, so no check has to clean up after itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from harness.admin_connections import admin_connection
from harness.janitor import CaseDatabase, Janitor
from harness.observe import backends_of, terminate_backends, wait_backends_gone
from harness.server.base import Admin, PostgresServer
from harness.statements import read_statement_stats

TLS_SQL = ("SELECT a.pid, s.ssl, s.version, s.cipher FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
           "WHERE a.datname = %s AND a.backend_type = 'client backend'")


class LiveControls:
    def __init__(self, server: PostgresServer, janitor: Janitor, db: CaseDatabase) -> None:
        self._server = server
        self._admin: Admin = server.admin
        self._janitor = janitor
        self._db = db
        self._limited = False
        self._hostssl = False

    # -- actions ----------------------------------------------------------------------------
    def set_connection_limit(self, limit: int | None) -> None:
        self._janitor.set_connection_limit(self._db.role, limit)
        self._limited = limit is not None

    def force_hostssl(self, on: bool) -> None:
        self._janitor.set_hostssl_only(self._db.role, on)
        self._hostssl = on

    def restart_server(self) -> None:
        self._server.restart()

    def set_case_setting(self, name: str, value: str) -> None:
        with admin_connection(self._admin.conninfo()) as conn:
            conn.execute(sql.SQL("ALTER ROLE {} IN DATABASE {} SET {} = {}").format(
                sql.Identifier(self._db.role), sql.Identifier(self._db.dbname), sql.Identifier(name),
                sql.Literal(value)))

    def terminate_backends(self) -> int:
        return terminate_backends(self._admin.conninfo(), self._db.dbname)

    def undo(self) -> None:
        """The role as it was before the case (its limit and group are shared by its other cases)."""
        if self._limited:
            self.set_connection_limit(None)
        if self._hostssl:
            self.force_hostssl(False)

    # -- looks ------------------------------------------------------------------------------
    def backends(self) -> list[tuple[int, str]]:
        return backends_of(self._admin.conninfo(), self._db.dbname)

    def wait_backends_gone(self, within: float, floor: int = 0) -> tuple[bool, float, int]:
        return wait_backends_gone(self._admin.conninfo(), self._db.dbname, within, floor=floor)

    def tls_backends(self) -> list[dict[str, Any]]:
        with admin_connection(self._admin.conninfo()) as conn:
            rows = conn.execute(TLS_SQL, [self._db.dbname]).fetchall()
        return [{"pid": r[0], "ssl": r[1], "version": r[2], "cipher": r[3]} for r in rows]

    def server_clock(self) -> datetime:
        with admin_connection(self._admin.conninfo()) as conn:
            return conn.execute("SELECT clock_timestamp() AT TIME ZONE 'UTC'").fetchone()[0]

    def statement_stats(self) -> tuple[tuple[str, int], ...]:
        return read_statement_stats(self._admin.conninfo(), self._db.dbname, self._db.role)

    def query(self, statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self._admin.conninfo(self._db.dbname), autocommit=True) as conn:
            return conn.execute(statement, params or []).fetchall()
