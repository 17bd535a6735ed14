"""A real PgBouncer (Debian 12's package, or 1.24.1 built by ci/pgbouncer-1.24.sh) in front of the run's PostgreSQL: on this machine, or in a
container of its own on the docker backend (harness.pooler.process: where it runs).

Everything lives in one temp dir that stop() deletes: the generated pgbouncer.ini, the auth_file
(each login role's SCRAM secret as pg_authid holds it, so that PgBouncer checks the client's
password and then logs in to the server with the same keys), its log, and its own TLS material
(a CA of its own: clients that verify the certificate are handed that CA). It listens on loopback
only. PgBouncer refuses to run as root: as root its files belong to the `postgres` account, as
the native server's do, and it runs as that account (in a container: as its uid). The harness
reaches its admin console as a user only it knows."""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from pathlib import Path

import psycopg

from harness import reaper, scratch
from harness.errors import HarnessError
from harness.pooler import DEFAULT_VERSION
from harness.admin_connections import admin_connection
from harness.pooler.console import AdminConsole
from harness.pooler.process import NativeProcess, PoolerProcess
from harness.server.base import SERVER_ADDRESS, UNNAMED_ADDRESS, Endpoint, PostgresServer, free_port
from harness.server.native import RUN_AS_WHEN_ROOT, TEMP_PREFIX
from harness.server.tls import make_run_tls, write_private

CONSOLE_USER = "harness_pooler_admin"
# What PgBouncer sizes for the compatibility matrix: large enough that it never queues a case of
# the matrix (the stories size their own); a case's limits stay the server's and the example's.
POOL_SETTINGS: dict[str, str] = {
    "max_client_conn": "1000",
    "default_pool_size": "100",
    "reserve_pool_size": "0",
    # pgjdbc sends extra_float_digits at startup; PgBouncer rejects startup parameters it does not
    # track unless told to ignore them (the usual setting for JDBC clients).
    "ignore_startup_parameters": "extra_float_digits",
    "query_wait_timeout": "120",
    "server_login_retry": "1",
    # Check a server connection (server_check_query) before handing it out again, however briefly
    # it was idle: after the recovery scenarios' fault (terminated backends, a restart) PgBouncer
    # then never lends a dead one. Its default (30 s) lends it, and the client sees 08P01.
    "server_check_delay": "0",
    "log_connections": "1",
    "log_disconnections": "1",
    "log_pooler_errors": "1",
    "stats_period": "60",
}
# Transaction mode as a busy PgBouncer runs it: every transaction may get another server
# connection. PgBouncer keeps two per pool and hands out the one idle longest, so that a sample
# relying on session state (a named prepared statement, a SET, an advisory lock) meets another
# server connection on every run, not on one run in ten.
MODE_SETTINGS: dict[str, dict[str, str]] = {
    "transaction": {"min_pool_size": "2", "server_round_robin": "1"},
}
# How long warm() waits for min_pool_size: an event wait (it returns once they are logged in), so
# the bound only matters on a machine so busy that PgBouncer's timer lags; a pool still filling
# when the case starts would log its server connections in during the case.
WARM_SECONDS = 30.0
AUTH_SQL = ("SELECT rolname, rolpassword FROM pg_authid "
            "WHERE rolcanlogin AND rolpassword LIKE 'SCRAM-SHA-256$%' ORDER BY rolname")


def quote_auth(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def render_ini(*, server: Endpoint, listen_port: int, pool_mode: str, root: Path,
               settings: dict[str, str] | None = None, routes: dict[str, Endpoint] | None = None,
               pool_sizes: dict[str, int] | None = None) -> str:
    """pgbouncer.ini: every database name goes to the run's server (the `*` fallback entry),
    except those `routes` sends elsewhere (the cutover story's second server); a database in
    `pool_sizes` gets an entry of its own with that server pool size (the exhaustion story's)."""
    routes, pool_sizes = routes or {}, pool_sizes or {}
    entries = []
    for name in sorted({*routes, *pool_sizes}):
        to = routes.get(name, server)
        size = pool_sizes.get(name)
        entries.append(f"{name} = host={to.host} port={to.port}"
                       + (f" pool_size={size} max_db_connections={size}" if size is not None else ""))
    lines = ["[databases]", *entries, f"* = host={server.host} port={server.port}", "", "[pgbouncer]"]
    values = {
        "listen_addr": f"{SERVER_ADDRESS},{UNNAMED_ADDRESS}",
        "listen_port": str(listen_port),
        "unix_socket_dir": "",   # loopback TCP only
        "auth_type": "scram-sha-256",
        "auth_file": str(root / "userlist.txt"),
        "admin_users": CONSOLE_USER,
        "pool_mode": pool_mode,
        "logfile": str(root / "pgbouncer.log"),
        "client_tls_sslmode": "allow",
        "client_tls_cert_file": str(root / "tls" / "pooler.crt"),
        "client_tls_key_file": str(root / "tls" / "pooler.key"),
        "client_tls_protocols": "tlsv1.2,tlsv1.3",
        "server_tls_sslmode": "disable",
        **POOL_SETTINGS,
        **MODE_SETTINGS.get(pool_mode, {}),
        **(settings or {}),
    }
    lines += [f"{key} = {value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def render_auth_file(secrets_by_role: list[tuple[str, str]], console_password: str) -> str:
    rows = [(CONSOLE_USER, console_password), *secrets_by_role]
    return "".join(f"{quote_auth(user)} {quote_auth(secret)}\n" for user, secret in rows)


class PgBouncer:
    """One PgBouncer of `version` in one pool mode, in front of `inner` (already started);
    `process` is where it runs (natively on this machine unless given); `settings` what its
    version sets beyond POOL_SETTINGS (spec/pgbouncer.yaml `versions:`)."""

    def __init__(self, inner: PostgresServer, pool_mode: str, settings: dict[str, str] | None = None,
                 process: PoolerProcess | None = None, version: str = DEFAULT_VERSION) -> None:
        self.inner = inner
        self.pool_mode = pool_mode
        self.version = version
        self.settings = settings or {}
        self._user = RUN_AS_WHEN_ROOT if os.geteuid() == 0 else None
        self.process: PoolerProcess = process or NativeProcess(self._user, version)
        self.root: Path | None = None
        self.port = 0
        self.client_tls = None
        self._console_password = secrets.token_urlsafe(18)
        self._auth_lock = threading.Lock()   # cases of several examples (-j) sync it at once
        self._routes: dict[str, Endpoint] = {}   # database -> another server (the cutover story)
        self._pool_sizes: dict[str, int] = {}   # database -> its server pool size, while a case sets one
        self._overrides: dict[str, str] = {}   # settings a case changed for a while (configure)
        self._ini_lock = threading.Lock()

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(SERVER_ADDRESS, self.port, self.client_tls)

    @property
    def min_pool_size(self) -> int:
        """The server connections PgBouncer keeps per pool (dialling them even while the server is down)."""
        merged = {**POOL_SETTINGS, **MODE_SETTINGS.get(self.pool_mode, {}), **self.settings}
        return int(merged.get("min_pool_size", "0"))

    @property
    def console(self) -> AdminConsole:
        return AdminConsole(SERVER_ADDRESS, self.port, CONSOLE_USER, self._console_password)

    def _own(self, path: Path) -> None:
        if self._user:
            shutil.chown(path, self._user, self._user)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        # Name first, create second: a signal between the two still leaves stop() the path.
        self.root = scratch.parent() / f"{TEMP_PREFIX}pgbouncer-{secrets.token_hex(6)}"
        self.root.mkdir(mode=0o700)
        self._own(self.root)
        facts = self.process.owner_facts()
        if facts:   # a run killed outright: the next run's reaper finds what to stop
            reaper.record_owner(self.root, kind="pgbouncer", **facts)
        self.client_tls, pair = make_run_tls(self.root / "tls", "pgbouncer " + self.root.name[-12:])
        (self.root / "tls" / "pooler.crt").write_bytes(pair.certificate_pem)
        write_private(self.root / "tls" / "pooler.key", pair.key_pem)
        for name in ("tls", "tls/pooler.crt", "tls/pooler.key"):
            self._own(self.root / name)
        self.sync_auth(reload=False)
        last = ""
        for _attempt in range(3):  # another process can take the free port between pick and bind
            self.port = free_port()
            self._write_ini()
            ini = self.root / "pgbouncer.ini"
            self.process.start(ini)
            if self._wait_ready(10):
                return
            last = self.log_tail()
            self.process.stop()
            if "Address already in use" not in last:
                break
        raise HarnessError(f"PgBouncer did not start ({self.process.describe()}):\n{last}")

    def _wait_ready(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.process.is_alive():
                return False
            try:
                self.console.show("VERSION")
                return True
            except psycopg.Error:
                time.sleep(0.05)
        return False

    def _write_ini(self) -> None:
        assert self.root is not None
        tmp = self.root / "pgbouncer.ini.new"
        tmp.write_text(render_ini(server=self.inner.endpoint, listen_port=self.port, pool_mode=self.pool_mode,
                                  root=self.root, settings={**self.settings, **self._overrides}, routes=self._routes,
                                  pool_sizes=self._pool_sizes))
        self._own(tmp)
        tmp.replace(self.root / "pgbouncer.ini")   # PgBouncer never reads half a file

    def route(self, database: str, to: Endpoint | None) -> None:
        """Points `database` at another server (None: back to the run's server), then RELOAD.
        PgBouncer closes that database's server connections to the old address as they are
        released; the other databases keep theirs. Pointing back removes the entry, and PgBouncer
        then disconnects that database's clients ("database removed"): only after the case."""
        with self._ini_lock:
            if to is None:
                self._routes.pop(database, None)
            else:
                self._routes[database] = to
            self._write_ini()
            self.console.command("RELOAD")

    def size_pool(self, database: str, size: int | None) -> None:
        """Gives `database` a server pool of `size` connections (at most, in all), or back to the
        default (None), then RELOAD. Other databases keep theirs."""
        with self._ini_lock:
            if size is None:
                self._pool_sizes.pop(database, None)
            else:
                self._pool_sizes[database] = size
            self._write_ini()
            self.console.command("RELOAD")

    def configure(self, name: str, value: str | None) -> None:
        """A setting of the ini (None: back to the harness's own), then RELOAD. In the ini, not
        by the console's SET: a RELOAD (any case's auth sync, a route) would undo a SET."""
        with self._ini_lock:
            if value is None:
                self._overrides.pop(name, None)
            else:
                self._overrides[name] = value
            self._write_ini()
            self.console.command("RELOAD")

    def sync_auth(self, reload: bool = True) -> None:
        """The auth_file from pg_authid as it is now (a role made or given a new password since
        is known to PgBouncer after this), then RELOAD."""
        assert self.root is not None
        with self._auth_lock:
            with admin_connection(self.inner.admin.conninfo()) as conn:   # every pooled case: no login each
                rows = [(str(r[0]), str(r[1])) for r in conn.execute(AUTH_SQL).fetchall()]
            tmp = self.root / "userlist.txt.new"
            write_private(tmp, render_auth_file(rows, self._console_password).encode())
            self._own(tmp)
            tmp.replace(self.root / "userlist.txt")   # PgBouncer never reads half a file
            if reload:
                self.console.command("RELOAD")

    def warm(self, dbname: str, role: str, password: str, within: float = WARM_SECONDS) -> bool:
        """Has PgBouncer open its min_pool_size server connections to the case's database before
        the example starts, as a busy PgBouncer has them: a pool exists only once a client logged
        in, and min_pool_size is filled while one is there. Without this, a short case runs on one
        server connection, and a sample relying on session state passes or fails by timing."""
        if self.min_pool_size == 0:
            return True
        with psycopg.connect(host=SERVER_ADDRESS, port=self.port, user=role, password=password, dbname=dbname,
                             sslmode="disable", connect_timeout=5):
            return self.console.wait_servers(dbname, self.min_pool_size, within)

    def is_alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        """Stops PgBouncer and deletes its dir. Safe to call twice."""
        self.console.close_idle()
        try:
            self.process.stop()
        finally:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
                reaper.forget(self.root)
                self.root = None
                self.client_tls = None

    @property
    def log_path(self) -> Path:
        assert self.root is not None
        return self.root / "pgbouncer.log"

    def log_tail(self, lines: int = 30) -> str:
        if self.root is None:
            return ""
        try:
            return "\n".join((self.root / "pgbouncer.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def connect_hint(self) -> str:
        return f"psql -h {SERVER_ADDRESS} -p {self.port} -U {CONSOLE_USER} pgbouncer  (PgBouncer {self.version} {self.pool_mode} mode)"
