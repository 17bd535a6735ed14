"""Databases and roles of a run: one fixture template, one role per example, one fresh database
per case made from the template (so every case starts from the same data and the server's
counters can be read per case). Identifiers always go through psycopg.sql."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from typing import Any
from contextlib import AbstractContextManager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from harness.admin_connections import admin_connection
from harness.credentials import scram_verifier
from harness.server.base import HOSTSSL_ONLY_GROUP
from harness.spare_databases import SpareDatabases
from harness.spec import Fixture, RoleLimits

TEMPLATE_DB = "harness_template"


def _identifier(text: str, prefix: str) -> str:
    """A readable, legal, <= 63-byte name: ex_node_pg_pool; long ones end in a short hash."""
    name = prefix + re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if len(name) > 63:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = name[:54] + "_" + digest
    return name


def role_name(example_id: str, role_index: int = 0) -> str:
    """ex_<id>; the example's second role (a second case of it at once, harness.schedule) is ex2_<id> ..."""
    return _identifier(example_id, f"ex{role_index + 1}_" if role_index else "ex_")


def database_name(example_id: str, scenario: str, role_index: int = 0) -> str:
    """db_<id>__<case>; as the example's n-th role, db<n>_... (a case is its scenario, then
    @topology unless direct): no two cases running at once share a database."""
    return _identifier(f"{example_id}__{scenario}", f"db{role_index + 1}_" if role_index else "db_")


def physical_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The order the fixture's rows are loaded in, so a heap scan returns them so: none that a
    scenario asks for (by id either way, by name, active first), so a query that lost its
    ORDER BY returns the rows out of order instead of passing by luck. Odd ids from the highest
    down, then even ids from the lowest up (users: 7, 5, 3, 1, 2, 4, 6, 8)."""
    odd = sorted((r for r in rows if r["id"] % 2), key=lambda r: -r["id"])
    return odd + sorted((r for r in rows if not r["id"] % 2), key=lambda r: r["id"])


@dataclass(frozen=True)
class CaseDatabase:
    role: str
    password: str
    dbname: str


class Janitor:
    def __init__(self, conninfo_for: Callable[[str], str], password_for: Callable[[str], str],
                 server_major: int) -> None:
        self._conninfo_for = conninfo_for  # database name -> superuser conninfo (the server's own)
        self._password_for = password_for  # role -> its own password (harness.credentials)
        self._strategy = sql.SQL(" STRATEGY FILE_COPY") if server_major >= 15 else sql.SQL("")
        self._roles: set[str] = set()
        self._spares: SpareDatabases | None = None
        self._case_databases: set[str] = set()   # made by this run and not dropped yet
        self.limits = RoleLimits()   # the spec's, from load_template on

    def _connect(self, dbname: str = "postgres") -> AbstractContextManager[psycopg.Connection]:
        if dbname == "postgres":   # the maintenance database's connections are reused
            return admin_connection(self._conninfo_for(dbname))
        return psycopg.connect(self._conninfo_for(dbname), autocommit=True)

    def load_template(self, fixture: Fixture) -> None:
        self.limits = fixture.limits
        with self._connect() as admin:
            admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            # pg_hba.conf names this group in its hostssl-only lines (plaintext_refused).
            admin.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(HOSTSSL_ONLY_GROUP)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_DB)))
        with self._connect(TEMPLATE_DB) as conn:
            conn.execute(fixture.schema_sql)
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO users (id, name, active) VALUES (%s, %s, %s)",
                                [(u["id"], u["name"], u["active"]) for u in physical_order(fixture.users)])
                cur.executemany("INSERT INTO holdings (id, user_id, symbol, shares) VALUES (%s, %s, %s, %s)",
                                [(h["id"], h["user_id"], h["symbol"], h["shares"]) for h in physical_order(fixture.holdings)])
            # Each case database is owned by its example's role; the tables come from the
            # template (owned by the superuser), so the role gets every right on them.
            conn.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC")
            conn.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO PUBLIC")
        with self._connect() as admin:
            admin.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(sql.Identifier(TEMPLATE_DB)))

    def ensure_role(self, example_id: str, role_index: int = 0) -> str:
        role = role_name(example_id, role_index)
        if role not in self._roles:
            with self._connect() as admin:
                exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
                verb = "ALTER" if exists else "CREATE"
                # A SCRAM verifier, not the password: the statement log never holds a secret.
                # NOSUPERUSER etc. are the defaults; said here so that a reused role is reset too.
                # The spec's fair share: a connection limit and the timeouts, so that one example
                # cannot starve its neighbours (spec/fixture.yaml limits:).
                admin.execute(sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                                             "NOBYPASSRLS CONNECTION LIMIT {} PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(self.limits.connections_per_role),
                    sql.Literal(scram_verifier(self._password_for(role)))))
                for name, value in self.limits.settings().items():
                    admin.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(
                        sql.Identifier(role), sql.Identifier(name), sql.Literal(value)))
            self._roles.add(role)
        return role

    def make_ahead(self, hold: Callable[[], AbstractContextManager[object]], ready: int = 4) -> None:
        """From now on case databases are made ahead and dropped behind (harness.spare_databases)."""
        self._spares = SpareDatabases(self._create_from_template, self._drop_now, ready=ready, hold=hold)

    def _create_from_template(self, dbname: str, owner: str | None = None) -> None:
        owner_sql = sql.SQL(" OWNER {}").format(sql.Identifier(owner)) if owner else sql.SQL("")
        with self._connect() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(dbname), sql.Identifier(TEMPLATE_DB)) + owner_sql + self._strategy)
            # New databases grant CONNECT to PUBLIC: take it back, so that only the owning
            # example reaches its database.
            admin.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(sql.Identifier(dbname)))

    def _drop_now(self, dbname: str) -> None:
        with self._connect() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        self._case_databases.discard(dbname)

    def create_case_database(self, example_id: str, scenario: str, role_index: int = 0) -> CaseDatabase:
        role = self.ensure_role(example_id, role_index)
        dbname = database_name(example_id, scenario, role_index)
        if self._spares is not None:
            self._spares.claim(dbname)
        if dbname in self._case_databases:   # the same case again in this run (the server is the run's own)
            self._drop_now(dbname)
        spare = self._spares.take() if self._spares else None
        if spare is None:
            self._create_from_template(dbname, owner=role)
        else:
            with self._connect() as admin:
                admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(spare), sql.Identifier(dbname)))
                admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(dbname), sql.Identifier(role)))
        self._case_databases.add(dbname)
        return CaseDatabase(role=role, password=self._password_for(role), dbname=dbname)

    def set_connection_limit(self, role: str, limit: int | None) -> None:
        """The role's connection limit; None: back to the spec's fair share."""
        with self._connect() as admin:
            admin.execute(sql.SQL("ALTER ROLE {} CONNECTION LIMIT {}").format(
                sql.Identifier(role), sql.Literal(self.limits.connections_per_role if limit is None else int(limit))))

    def set_hostssl_only(self, role: str, on: bool) -> None:
        """Puts the role under pg_hba.conf's hostssl-only lines (membership is read at each login)."""
        statement = "GRANT {} TO {}" if on else "REVOKE {} FROM {}"
        with self._connect() as admin:
            admin.execute(sql.SQL(statement).format(sql.Identifier(HOSTSSL_ONLY_GROUP), sql.Identifier(role)))

    def drop_case_database(self, case: CaseDatabase) -> None:
        if self._spares is not None:
            self._spares.drop_later(case.dbname)
        else:
            self._drop_now(case.dbname)

    def close(self) -> None:
        """Stops making databases ahead (what it had not dropped goes with the server)."""
        if self._spares is not None:
            self._spares.close()

    def close_leftover_backends(self, role: str, within: float = 1.0) -> list[str]:
        """Backends of the example's role still open after its process ended (any database):
        waits `within` seconds for them to go, then terminates them and describes each."""
        query = ("SELECT pid, datname, application_name, state, left(query, 80) FROM pg_stat_activity "
                 "WHERE usename = %s AND pid <> pg_backend_pid()")
        deadline = time.monotonic() + within
        with self._connect() as admin:
            while True:
                rows = admin.execute(query, [role]).fetchall()
                if not rows or time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
            for row in rows:
                admin.execute("SELECT pg_terminate_backend(%s)", [row[0]])
        return [f"backend pid {pid} (database {db}, application_name {app!r}, {state or 'no state'}: {q!r})"
                for pid, db, app, state, q in rows]
