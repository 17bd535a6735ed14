"""The live CaseControls: the case's actions and looks, done on the run's server through the
superuser connection (`admin`), limited to the case's role and database. Every action is undone
by undo() when the case ends, so no check has to clean up after itself."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from harness.admin_connections import admin_connection
from harness.janitor import CaseDatabase, Janitor
from harness.observe import backends_of, terminate_backends, wait_backends_gone
from harness.server.base import Admin, PostgresServer
from harness.statements import read_statement_stats

if TYPE_CHECKING:
    from harness.pooler.pgbouncer import PgBouncer
    from harness.pooler.standby import StandbyServer
    from harness.spec import Fixture

POOLER_LOGIN_SECONDS = 10.0
POOLED_RELEASE_SECONDS = 2.0   # PgBouncer closed them: the backends only have to exit
TLS_SQL = ("SELECT a.pid, s.ssl, s.version, s.cipher FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
           "WHERE a.datname = %s AND a.backend_type = 'client backend'")


def rows_of(conninfo: str, statement: str, params: list[Any] | None) -> list[tuple[Any, ...]]:
    """The statement's rows ([] for one that returns none, such as DDL)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cur = conn.execute(statement, params or [])
        return cur.fetchall() if cur.description else []


class LiveControls:
    def __init__(self, server: PostgresServer, janitor: Janitor, db: CaseDatabase,
                 pooler: "PgBouncer | None" = None, standby: "tuple[StandbyServer, Fixture, str, str, int] | None" = None) -> None:
        self._server = server
        self._pooler = pooler
        # the cutover story's second server, the fixture, the case (example id, scenario, role index)
        self._standby = standby
        self._cutover: dict[str, Any] = {}   # what the cutover actions changed, for undo()
        self._admin: Admin = server.admin
        self._janitor = janitor
        self._db = db
        self._limited = False
        self._hostssl = False
        self._pool_sized = False

    # -- actions ----------------------------------------------------------------------------
    def set_connection_limit(self, limit: int | None) -> None:
        self._janitor.set_connection_limit(self._db.role, limit)
        self._limited = limit is not None

    def connection_limit_set(self) -> bool:
        return self._limited

    def force_hostssl(self, on: bool) -> None:
        self._janitor.set_hostssl_only(self._db.role, on)
        self._hostssl = on

    def restart_server(self) -> None:
        before = self._pooler.console.server_pids(self._db.dbname) if self._pooler else set()
        self._server.restart()
        if self._pooler is not None and self._pooler.min_pool_size:
            # PgBouncer logs in again on its own (min_pool_size). Until it has, a failed login of its
            # own makes it answer clients with 08P01 for server_login_retry: the pooler's recovery,
            # not the sample's, which is what the scenario judges.
            self._pooler.console.wait_servers(self._db.dbname, 1, POOLER_LOGIN_SECONDS, not_in=before)

    def set_pooler_pool_size(self, size: int | None) -> None:
        if self._pooler is not None:
            self._pooler.size_pool(self._db.dbname, size)
            self._pool_sized = size is not None

    def set_case_setting(self, name: str, value: str) -> None:
        with admin_connection(self._admin.conninfo()) as conn:
            conn.execute(sql.SQL("ALTER ROLE {} IN DATABASE {} SET {} = {}").format(
                sql.Identifier(self._db.role), sql.Identifier(self._db.dbname), sql.Identifier(name),
                sql.Literal(value)))

    def terminate_backends(self) -> int:
        return terminate_backends(self._admin.conninfo(), self._db.dbname)

    # -- the cutover story: PgBouncer and the run's second server -------------------------------
    def cutover_target(self) -> None:
        assert self._standby is not None, "the cutover needs the session's second server"
        standby, fixture, example_id, scenario, role_index = self._standby
        self._cutover["target"] = target = standby.mirror(self._admin, example_id, scenario, role_index, fixture)
        assert target.dbname == self._db.dbname   # PgBouncer keeps the name when it points elsewhere

    def pooler_pause(self) -> float:
        assert self._pooler is not None
        self._cutover["paused"] = True
        return self._pooler.console.pause(self._db.dbname)

    def pooler_resume(self) -> None:
        assert self._pooler is not None
        self._pooler.console.resume(self._db.dbname)
        self._cutover.pop("paused", None)

    def pooler_route_to_target(self, on: bool) -> None:
        assert self._pooler is not None and self._standby is not None
        self._pooler.route(self._db.dbname, self._standby[0].server.endpoint if on else None)  # type: ignore[union-attr]
        self._cutover["routed"] = on

    def pooler_configure(self, name: str, value: str | None) -> None:
        assert self._pooler is not None
        self._pooler.configure(name, value)
        self._cutover.setdefault("configured", set()).add(name)

    def pooler_setting(self, name: str) -> str:
        assert self._pooler is not None
        return self._pooler.console.setting(name)

    def query_target(self, statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        assert self._standby is not None
        return rows_of(self._standby[0].admin.conninfo(self._db.dbname), statement, params)

    def _undo_cutover(self) -> None:
        done, self._cutover = self._cutover, {}
        if done.get("paused") and self._pooler is not None:
            self._pooler.console.resume(self._db.dbname)
        if done.get("routed") and self._pooler is not None:
            self._pooler.route(self._db.dbname, None)
        for name in done.get("configured", ()):
            self._pooler.configure(name, None)   # type: ignore[union-attr]
        target = done.get("target")
        if target is not None and self._standby is not None and self._standby[0].janitor is not None:
            self._standby[0].janitor.drop_case_database(target)

    def reconnect_pooler(self) -> bool:
        """PgBouncer replaces the case's server connections (RECONNECT); False straight to the server."""
        if self._pooler is None:
            return False
        self._pooler.console.reconnect(self._db.dbname)
        return True

    def undo(self) -> None:
        """The role as it was before the case (its limit and group are shared by its other cases),
        PgBouncer as it was (resumed, the database on the run's server, its settings)."""
        if self._cutover:
            self._undo_cutover()
        if self._limited:
            self.set_connection_limit(None)
        if self._hostssl:
            self.force_hostssl(False)
        if self._pool_sized:
            self.set_pooler_pool_size(None)
        if self._pooler is not None:
            self.release_pooled_connections()

    def release_pooled_connections(self) -> None:
        """PgBouncer lets go of the case's database, and its server connections are gone before
        the role serves another case: they count against the role's connection limit, and
        PgBouncer keeps them pooled long after the case (until server_idle_timeout), while the
        database's drop comes later still (harness.spare_databases)."""
        assert self._pooler is not None
        self._pooler.console.close_database(self._db.dbname)
        self._janitor.close_leftover_backends(self._db.role, within=POOLED_RELEASE_SECONDS)

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
    def wait_connections_gone(self, within: float, floor: int = 0) -> tuple[bool, float, int]:
        if self._pooler is None:
            return self.wait_backends_gone(within, floor)
        return self._pooler.console.wait_clients_gone(self._db.dbname, within, floor)

    def pooler_clients(self) -> list[dict[str, Any]]:
        return self._pooler.console.clients(self._db.dbname) if self._pooler else []

    def pooler_servers(self) -> list[dict[str, Any]]:
        return self._pooler.console.servers(self._db.dbname) if self._pooler else []

    def pooler_pool(self) -> dict[str, Any]:
        return self._pooler.console.pool(self._db.dbname) if self._pooler else {}

    def pooler_stats(self) -> dict[str, Any]:
        return self._pooler.console.stats(self._db.dbname) if self._pooler else {}

    def query(self, statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return rows_of(self._admin.conninfo(self._db.dbname), statement, params)
