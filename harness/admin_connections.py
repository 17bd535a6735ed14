"""The harness's own superuser connections, reused.

A case used to open about ten superuser connections (its database, the server's clock twice,
the log offset and the log, the activity sampler, waiting for its backends, closing leftovers,
pg_stat_statements, dropping its database), each a fork and a SCRAM login: about 12 ms apiece,
0.15 s a case. Here a connection is lent to one caller at a time and taken back when it is
still idle and healthy; a lent one is checked with one round trip first, so a server restart
(the restart scenarios) only costs a new login. Only the maintenance database's connections are
kept: a case database's would be cut by its DROP DATABASE ... WITH (FORCE) anyway.

Keyed by the whole conninfo, so two sessions (or servers) never share one. PgBouncer's admin
console is reached the same way (CONSOLE_CONNECTIONS: its own health check, simple protocol),
since a pooled case asks it a dozen times (RELOAD, SHOW SERVERS/CLIENTS polls, KILL, RESUME),
each a SCRAM login when made anew.

A connection is lent to one thread at a time (psycopg's connections are not for concurrent use):
the activity sampler takes one for as long as it runs, a case's observations take theirs in turn."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

MAX_IDLE_PER_SERVER = 8   # more than the sampler, the janitor and a case at a time, for -j 2..4


class AdminConnections:
    def __init__(self, ping: str = "SELECT 1", **connect_options: Any) -> None:
        self._idle: dict[str, list[psycopg.Connection]] = {}
        self._lock = threading.Lock()
        self._ping = ping                       # one round trip that proves a lent connection alive
        self._connect_options = connect_options  # psycopg.connect's, for every new one
        self.logins = 0                         # connections made (each a login): the benchmark counts them

    def take(self, conninfo: str, connect_timeout: int | None = None) -> psycopg.Connection:
        """A healthy autocommit connection, reused when one is idle (the caller gives it back)."""
        while True:
            with self._lock:
                idle = self._idle.get(conninfo)
                conn = idle.pop() if idle else None
            if conn is None:
                extra = {} if connect_timeout is None else {"connect_timeout": connect_timeout}
                with self._lock:
                    self.logins += 1
                return psycopg.connect(conninfo, autocommit=True, **self._connect_options, **extra)
            try:
                conn.execute(self._ping)
                return conn
            except psycopg.Error:
                conn.close()   # the server restarted or cut it: try the next one, else log in anew

    def give(self, conninfo: str, conn: psycopg.Connection) -> None:
        """Back to the idle list if it is still usable, else closed."""
        if conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
            conn.close()
            return
        with self._lock:
            idle = self._idle.setdefault(conninfo, [])
            if len(idle) < MAX_IDLE_PER_SERVER:
                idle.append(conn)
                return
        conn.close()

    @contextmanager
    def connect(self, conninfo: str, connect_timeout: int | None = None) -> Iterator[psycopg.Connection]:
        """Like `with psycopg.connect(conninfo, autocommit=True)`; an error closes the connection."""
        conn = self.take(conninfo, connect_timeout)
        try:
            yield conn
        except BaseException:
            conn.close()
            raise
        self.give(conninfo, conn)

    def idle_count(self, conninfo: str) -> int:
        with self._lock:
            return len(self._idle.get(conninfo, []))

    def close_idle(self, conninfo_prefix: str = "") -> None:
        """Closes the idle connections whose conninfo starts with the prefix (all by default)."""
        with self._lock:
            keys = [k for k in self._idle if k.startswith(conninfo_prefix)]
            closing = [conn for k in keys for conn in self._idle.pop(k)]
        for conn in closing:
            conn.close()


# One per process: the sessions' servers differ by port (and password) in their conninfo.
ADMIN_CONNECTIONS = AdminConnections()
# PgBouncer's admin console speaks only the simple query protocol (a client-side-binding cursor)
# and knows no SELECT.
CONSOLE_CONNECTIONS = AdminConnections(ping="SHOW VERSION", cursor_factory=psycopg.ClientCursor)


def admin_connection(conninfo: str) -> "contextmanager[psycopg.Connection]":  # type: ignore[valid-type]
    """A superuser connection to the maintenance database, reused across a run's cases."""
    return ADMIN_CONNECTIONS.connect(conninfo)
