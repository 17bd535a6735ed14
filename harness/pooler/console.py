"""PgBouncer's admin console: the client side of a pooled case (SHOW CLIENTS, SERVERS, POOLS,
STATS) and its commands (RELOAD, PAUSE, RESUME, KILL). The console speaks only the simple query
protocol, so every statement goes through a client-side-binding cursor."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from harness.admin_connections import CONSOLE_CONNECTIONS


@dataclass(frozen=True)
class AdminConsole:
    host: str
    port: int
    user: str
    password: str

    @property
    def conninfo(self) -> str:
        return make_conninfo(host=self.host, port=self.port, user=self.user, password=self.password,
                             dbname="pgbouncer", sslmode="disable")

    def _connect(self, timeout: float = 5) -> AbstractContextManager[psycopg.Connection[Any]]:
        """A console connection, reused across calls and cases (harness.admin_connections)."""
        return CONSOLE_CONNECTIONS.connect(self.conninfo, connect_timeout=max(1, int(timeout)))

    def close_idle(self) -> None:
        """The reused console connections closed: PgBouncer is stopping."""
        CONSOLE_CONNECTIONS.close_idle(self.conninfo)

    def show(self, what: str) -> list[dict[str, Any]]:
        """`SHOW <what>` as rows of column -> value."""
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(f"SHOW {what}")
            names = [c.name for c in cur.description or ()]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def command(self, statement: str) -> None:
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(statement)

    @staticmethod
    def _name(database: str) -> str:
        """A plain name goes as it is: PgBouncer 1.18's console reads its argument into 64 bytes,
        quotes included, so a 63-byte name quoted is "bad arguments"."""
        return database if re.fullmatch(r"[a-z_][a-z0-9_]*", database) else f'"{database}"'

    def pause(self, database: str) -> float:
        """PAUSE <database>: returns once PgBouncer has paused it, which is when every server
        connection of it is released (in transaction mode: when open transactions have ended);
        the seconds it took."""
        started = time.monotonic()
        self.command(f"PAUSE {self._name(database)}")
        return time.monotonic() - started

    def resume(self, database: str) -> None:
        self.command(f"RESUME {self._name(database)}")

    def setting(self, name: str) -> str:
        """A setting's value as PgBouncer runs with it now (SHOW CONFIG)."""
        return next(str(row["value"]) for row in self.show("CONFIG") if row.get("key") == name)

    def reconnect(self, database: str) -> None:
        """RECONNECT <database>: every server connection of it is closed once released (in
        transaction mode: now, between transactions; in session mode: when its client leaves)."""
        self.command(f"RECONNECT {self._name(database)}")

    def close_database(self, database: str) -> None:
        """KILL <database>, then RESUME it: every client and server connection of it closed now,
        and its pools gone (a pool is made again only for a new client, so min_pool_size does not
        dial it again). A database PgBouncer never saw is left as it is."""
        try:
            self.command(f"KILL {self._name(database)}")
        except psycopg.Error as error:
            if "no such database" not in str(error):
                raise
            return
        self.resume(database)

    def clients(self, database: str) -> list[dict[str, Any]]:
        """The client connections to `database` (the console's own excluded)."""
        return [row for row in self.show("CLIENTS") if row.get("database") == database]

    def servers(self, database: str) -> list[dict[str, Any]]:
        return [row for row in self.show("SERVERS") if row.get("database") == database]

    def pool(self, database: str) -> dict[str, Any]:
        return next((row for row in self.show("POOLS") if row.get("database") == database), {})

    def stats(self, database: str) -> dict[str, Any]:
        return next((row for row in self.show("STATS") if row.get("database") == database), {})

    def wait_clients_gone(self, database: str, within: float, floor: int = 0) -> tuple[bool, float, int]:
        """Polls SHOW CLIENTS until at most `floor` clients of `database` are left: (reached,
        seconds, count left)."""
        reached, seconds, left = _poll(lambda: len(self.clients(database)), lambda n: n <= floor, within)
        return reached, seconds, left

    def server_pids(self, database: str) -> set[int]:
        """The backend pids of PgBouncer's logged-in server connections to `database`."""
        return {int(row["remote_pid"]) for row in self.servers(database)
                if row.get("state") in ("idle", "used", "active") and row.get("remote_pid")}

    def wait_servers(self, database: str, count: int, within: float, not_in: set[int] = frozenset()) -> bool:
        """Polls SHOW SERVERS until PgBouncer holds `count` logged-in server connections to
        `database` other than `not_in` (backend pids); False if it did not within `within` s."""
        return _poll(lambda: len(self.server_pids(database) - not_in), lambda n: n >= count, within)[0]


def _poll(look: Callable[[], int], done: Callable[[int], bool], within: float) -> tuple[bool, float, int]:
    """Calls `look` every 50 ms until `done` holds for what it saw, or `within` s have passed:
    (reached, seconds, what it saw last)."""
    start = time.monotonic()
    while True:
        seen = look()
        elapsed = time.monotonic() - start
        if done(seen):
            return True, elapsed, seen
        if elapsed >= within:
            return False, elapsed, seen
        time.sleep(0.05)
