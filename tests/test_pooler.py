"""The pooled topologies: --via parsed once for the CLI and pytest, PgBouncer's generated files,
and a real PgBouncer in front of a real server: SCRAM through it, its admin console, and nothing
left after stop()."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from harness.admin_connections import CONSOLE_CONNECTIONS
from harness.config import build_config
from harness.errors import InputError
from harness.pooler import TOPOLOGIES, VERSIONS, Topology, case_key, parse_topologies, topology
from harness.pooler.pgbouncer import CONSOLE_USER, PgBouncer, render_auth_file, render_ini
from harness.pooler.versions import version_settings
from harness.server.base import Endpoint, ServerSettings
from harness.server.native import NativeServer
from tests.support import process_alive


def labels(topologies: tuple[Topology, ...]) -> list[str]:
    return [t.label for t in topologies]


def test_via_takes_several_topologies_in_order_once_each() -> None:
    assert labels(parse_topologies(None)) == ["direct"]
    assert labels(parse_topologies(["pgbouncer-transaction,direct", "direct"])) == ["pgbouncer-transaction", "direct"]
    assert labels(build_config({"via": ["direct", "pgbouncer-session"]}, environ={}).via) == ["direct", "pgbouncer-session"]
    assert labels(build_config({}, environ={}).via) == ["direct"]


def test_a_topology_is_one_value_parsed_once_from_its_label() -> None:
    """The route, PgBouncer's version and pool mode, and the driver fix: today's names keep meaning 1.18."""
    assert topology("direct") == Topology() and not topology("direct").pooled
    assert topology("pgbouncer-session") == Topology("pgbouncer", "1.18", "session")
    newer = topology("pgbouncer-1.24-transaction")
    assert (newer.pooler, newer.version, newer.pool_mode, newer.fix) == ("pgbouncer", "1.24", "transaction", "")
    fixed = topology("pgbouncer-transaction+prepareThreshold=0")
    assert fixed.fix == "prepareThreshold=0" and fixed.base == topology("pgbouncer-transaction")
    assert fixed.label == str(fixed) == "pgbouncer-transaction+prepareThreshold=0"
    assert newer.default_version == topology("pgbouncer-transaction") and topology(newer) is newer
    for label in TOPOLOGIES:
        assert topology(label).label == label
    for wrong in ("pgbouncer-1.25-session", "direct+prepareThreshold=0", "pgbouncer-session+", "pgbouncer"):
        with pytest.raises(InputError):
            topology(wrong)


def test_a_driver_fix_row_is_selectable_by_via_and_an_unknown_fix_names_the_known_ones() -> None:
    config = build_config({"via": ["pgbouncer-transaction+prepareThreshold=0"]}, environ={})
    assert labels(config.via) == ["pgbouncer-transaction+prepareThreshold=0"]
    with pytest.raises(InputError) as error:
        build_config({"via": ["pgbouncer-transaction+prepareThreshold=1"]}, environ={})
    text = error.value.render()
    assert "'prepareThreshold=1'" in text and "pgbouncer-transaction+prepareThreshold=0" in text


def test_an_unknown_topology_names_the_option_and_the_known_ones() -> None:
    with pytest.raises(InputError) as error:
        build_config({"via": ["pgbouncer"]}, environ={})
    text = error.value.render()
    assert "--via" in text and "'pgbouncer'" in text
    assert all(name in text for name in TOPOLOGIES)


def test_a_pooled_case_is_keyed_by_its_topology() -> None:
    assert case_key("param_query", "direct") == "param_query"
    assert case_key("param_query", "pgbouncer-transaction") == "param_query@pgbouncer-transaction"
    assert case_key("param_query", topology("pgbouncer-1.24-transaction")) == "param_query@pgbouncer-1.24-transaction"
    assert case_key("param_query", topology("direct")) == "param_query"


def test_the_generated_ini_listens_on_loopback_only_and_authenticates_with_scram(tmp_path: Path) -> None:
    ini = render_ini(server=Endpoint("127.0.0.1", 5999, None), listen_port=6001, pool_mode="transaction", root=tmp_path)
    lines = dict(line.split(" = ", 1) for line in ini.splitlines() if " = " in line)
    assert lines["listen_addr"] == "127.0.0.1,127.0.0.2"
    assert lines["unix_socket_dir"] == ""
    assert lines["auth_type"] == "scram-sha-256"
    assert lines["pool_mode"] == "transaction"
    assert lines["*"] == "host=127.0.0.1 port=5999"
    assert lines["admin_users"] == CONSOLE_USER
    auth = render_auth_file([('we"ird', "SCRAM-SHA-256$4096:abc")], "pw")
    assert auth.splitlines() == [f'"{CONSOLE_USER}" "pw"', '"we""ird" "SCRAM-SHA-256$4096:abc"']


@pytest.fixture(scope="module")
def server() -> NativeServer:
    with NativeServer(ServerSettings(superuser_password="unused")) as running:
        with psycopg.connect(running.admin.conninfo(), autocommit=True) as conn:
            conn.execute("CREATE ROLE pooled_role LOGIN PASSWORD 'right-password'")
            conn.execute("CREATE DATABASE pooled_db OWNER pooled_role")
        yield running


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", ["session", "transaction"])
def test_a_real_pgbouncer_passes_scram_through_and_leaves_nothing(server: NativeServer, mode: str, version: str) -> None:
    pooler = PgBouncer(server, mode, version=version)
    try:
        pooler.start()
        root, pid = pooler.root, getattr(pooler.process, "pid", None)
        assert root is not None and root.name.startswith("pg-harness-")
        endpoint = pooler.endpoint
        assert endpoint.host == "127.0.0.1" and endpoint.port != server.port and endpoint.tls is not None
        with psycopg.connect(host=endpoint.host, port=endpoint.port, user="pooled_role", password="right-password",
                             dbname="pooled_db", sslmode="verify-full", sslrootcert=str(endpoint.tls.ca)) as conn:
            # The server sees PgBouncer's own connection; the client side is PgBouncer's SHOW CLIENTS.
            assert conn.execute("SELECT current_user, inet_server_port()").fetchone() == ("pooled_role", server.port)
            clients = pooler.console.clients("pooled_db")
            assert [c["user"] for c in clients] == ["pooled_role"] and clients[0]["tls"].startswith("TLSv1.")
            assert pooler.console.pool("pooled_db")["pool_mode"] == mode
        with pytest.raises(psycopg.OperationalError, match="SASL authentication failed|password authentication failed"):
            psycopg.connect(host=endpoint.host, port=endpoint.port, user="pooled_role", password="wrong",
                            dbname="pooled_db", sslmode="disable").close()
        # A role made after the start is known once the auth_file is synced.
        with psycopg.connect(server.admin.conninfo(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE later_role_{mode}_{version.replace('.', '')} LOGIN PASSWORD 'later' IN ROLE pooled_role")
        pooler.sync_auth()
        assert pooler.process.version().startswith(version + ".")
        psycopg.connect(host=endpoint.host, port=endpoint.port, user=f"later_role_{mode}_{version.replace('.', '')}",
                        password="later",
                        dbname="pooled_db", sslmode="disable").close()
    finally:
        pooler.stop()
        pooler.stop()  # twice is safe
    assert not root.exists(), f"{root} is left behind"
    assert pid is not None and not process_alive(pid), f"PgBouncer {pid} still runs"


def _client(pooler: PgBouncer, **kwargs: object) -> psycopg.Connection:
    endpoint = pooler.endpoint
    return psycopg.connect(host=endpoint.host, port=endpoint.port, user="pooled_role", password="right-password",
                           dbname="pooled_db", sslmode="disable", **kwargs)  # type: ignore[arg-type]


def test_pause_waits_for_an_open_transaction_and_queries_wait_for_resume(server: NativeServer) -> None:
    """PgBouncer's documented PAUSE semantics, on the real thing (the groundwork of the page's
    cutover story): in transaction mode PAUSE returns only when the open transaction has ended;
    a query sent while paused waits, and runs after RESUME."""
    import threading
    import time

    pooler = PgBouncer(server, "transaction")
    try:
        pooler.start()
        holder = _client(pooler)
        holder.execute("BEGIN")
        holder.execute("SELECT 1")              # the transaction holds a server connection
        paused = threading.Event()
        waited: list[float] = []
        pause = threading.Thread(target=lambda: (waited.append(pooler.console.pause("pooled_db")), paused.set()))
        pause.start()
        assert not paused.wait(1.0), "PAUSE returned while a transaction was open"
        holder.execute("COMMIT")
        assert paused.wait(10), "PAUSE did not return after the transaction ended"
        assert waited[0] >= 1.0
        answered: list[float] = []
        waiter = _client(pooler, autocommit=True)  # logging in works while paused; its query waits
        started = time.monotonic()
        query = threading.Thread(target=lambda: (waiter.execute("SELECT 1"), answered.append(time.monotonic() - started)))
        query.start()
        time.sleep(0.8)
        assert answered == [], "a query ran while the database was paused"
        pooler.console.resume("pooled_db")
        query.join(10)
        assert answered and answered[0] >= 0.8
        holder.close()
        waiter.close()
    finally:
        pooler.stop()


def test_a_pause_longer_than_query_wait_timeout_disconnects_the_waiting_client(server: NativeServer) -> None:
    """The limit of the technique: a query that waits longer than query_wait_timeout is cut off
    with PgBouncer's own error."""
    pooler = PgBouncer(server, "transaction", settings={"query_wait_timeout": "1"})
    try:
        pooler.start()
        client = _client(pooler, autocommit=True)
        client.execute("SELECT 1")
        pooler.console.pause("pooled_db")
        with pytest.raises(psycopg.OperationalError, match="query_wait_timeout"):
            client.execute("SELECT 1")
        pooler.console.resume("pooled_db")
        client.close()
    finally:
        pooler.stop()


def test_a_database_sized_by_a_case_gets_that_many_server_connections_and_back(server: NativeServer) -> None:
    """size_pool (the pool-exhaustion story's control): PgBouncer's server pool of one database
    capped at a size by an entry of its own and a RELOAD, four concurrent queries then share two
    server connections; without the entry the database is back on the `*` defaults."""
    import threading

    pooler = PgBouncer(server, "transaction")
    try:
        pooler.start()
        with _client(pooler, autocommit=True) as first:   # the `*` entry's pool exists first (a warm case)
            first.execute("SELECT 1")
        pooler.size_pool("pooled_db", 2)
        assert "pooled_db = host=" in (pooler.root / "pgbouncer.ini").read_text()   # type: ignore[operator]
        clients = [_client(pooler, autocommit=True) for _ in range(4)]
        seen: list[int] = []
        queries = [threading.Thread(target=lambda c=c: c.execute("SELECT pg_sleep(0.5)")) for c in clients]
        for query in queries:
            query.start()
        for _ in range(8):
            seen.append(len(pooler.console.servers("pooled_db")))
            threading.Event().wait(0.1)
        for query in queries:
            query.join(10)
        assert max(seen) == 2, seen
        assert int(pooler.console.pool("pooled_db")["cl_waiting"]) == 0
        for client in clients:
            client.close()
        pooler.size_pool("pooled_db", None)
        assert "pooled_db = host=" not in (pooler.root / "pgbouncer.ini").read_text()   # type: ignore[operator]
        with _client(pooler, autocommit=True) as again:
            assert again.execute("SELECT 1").fetchone() == (1,)
    finally:
        pooler.stop()


def test_in_session_pooling_pause_waits_for_an_idle_client_to_disconnect(server: NativeServer) -> None:
    """Why the cutover story is n/a through pgbouncer-session: there a server connection is the
    client's until it disconnects, so PAUSE does not return while a pool holds an idle one."""
    import threading

    pooler = PgBouncer(server, "session")
    try:
        pooler.start()
        idle = _client(pooler, autocommit=True)
        idle.execute("SELECT 1")                 # logged in, not in a transaction
        paused = threading.Event()
        pause = threading.Thread(target=lambda: (pooler.console.pause("pooled_db"), paused.set()))
        pause.start()
        assert not paused.wait(1.5), "PAUSE returned while a session client was connected"
        idle.close()
        assert paused.wait(10), "PAUSE did not return after the client disconnected"
        pooler.console.resume("pooled_db")
    finally:
        pooler.stop()


def test_a_database_can_be_pointed_at_another_server_and_back(server: NativeServer, tmp_path: Path) -> None:
    """The cutover's repoint: one database's entry goes to a second server (RELOAD) and its
    client follows; pointing it back removes the entry. (min_pool_size 0: see the next test.)"""
    pooler = PgBouncer(server, "transaction", settings={"min_pool_size": "0"})
    with NativeServer(ServerSettings(superuser_password="unused")) as second:
        try:
            pooler.start()
            with psycopg.connect(server.admin.conninfo(), autocommit=True) as conn:
                secret = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'pooled_role'").fetchone()[0]
            with psycopg.connect(second.admin.conninfo(), autocommit=True) as conn:
                conn.execute(f"CREATE ROLE pooled_role LOGIN PASSWORD '{secret}'")   # the same SCRAM secret
                conn.execute("CREATE DATABASE pooled_db OWNER pooled_role")
            with _client(pooler, autocommit=True) as client:
                assert client.execute("SELECT inet_server_port()").fetchone() == (server.port,)
                pooler.console.pause("pooled_db")
                pooler.route("pooled_db", second.endpoint)
                pooler.console.resume("pooled_db")
                assert client.execute("SELECT inet_server_port()").fetchone() == (second.port,)
                assert f"pooled_db = host={second.endpoint.host} port={second.port}" in (pooler.root / "pgbouncer.ini").read_text()
            # Back: the entry goes, and with it (PgBouncer: "database removed") its clients; the
            # harness points back only after the case, when the example's clients are gone.
            pooler.route("pooled_db", None)
            assert "pooled_db =" not in (pooler.root / "pgbouncer.ini").read_text()
            with _client(pooler, autocommit=True) as client:
                assert client.execute("SELECT inet_server_port()").fetchone() == (server.port,)
        finally:
            pooler.stop()


def test_min_pool_size_during_a_pause_refuses_the_first_client_after_resume(server: NativeServer) -> None:
    """A hazard of the cutover found here (PgBouncer 1.18): while a database is paused, PgBouncer
    still opens server connections up to min_pool_size and closes each before its login ends
    ("pause mode"), which marks the pool's logins as failing. After RESUME a client that finds
    the pool without a server is refused at once, and queued ones wait server_login_retry."""
    import time

    pooler = PgBouncer(server, "transaction")   # the harness's settings: min_pool_size 2, server_login_retry 1
    try:
        pooler.start()
        client = _client(pooler, autocommit=True)
        client.execute("SELECT 1")
        pooler.console.pause("pooled_db")
        time.sleep(1.5)                          # PgBouncer's maintenance runs meanwhile
        pooler.console.resume("pooled_db")
        with pytest.raises(psycopg.OperationalError, match="server login has been failing"):
            client.execute("SELECT 1")
        assert "closing because: pause mode" in pooler.log_tail(40), pooler.log_tail(40)
        # Once server_login_retry (1 s) has passed, PgBouncer's maintenance opens a connection
        # again, and clients get through.
        refused_until = time.monotonic() + 10
        while True:
            try:
                with _client(pooler, autocommit=True) as later:
                    assert later.execute("SELECT 1").fetchone() == (1,)
                break
            except psycopg.OperationalError as error:
                assert "server login has been failing" in str(error)
                assert time.monotonic() < refused_until, "clients were still refused 10 s after RESUME"
                time.sleep(0.2)
    finally:
        pooler.stop()


def test_after_a_server_restart_clients_are_served_once_pgbouncer_is_logged_in_again(server: NativeServer) -> None:
    """In transaction mode PgBouncer dials the server during a restart (min_pool_size); a failed
    login makes it fail every client fast (08P01, "server login has been failing") until a login
    succeeds. A logged-in server connection new since the restart is what the restart control
    waits for (LiveControls.restart_server): after it, clients
    that stayed connected to PgBouncer through the restart are all served."""
    from concurrent.futures import ThreadPoolExecutor

    pooler = PgBouncer(server, "transaction")
    try:
        pooler.start()
        assert pooler.min_pool_size == 2
        clients = [_client(pooler, autocommit=True) for _ in range(4)]
        for client in clients:
            client.execute("SELECT 1")
        before = pooler.console.server_pids("pooled_db")
        server.restart()
        reached = pooler.console.wait_servers("pooled_db", 1, within=10, not_in=before)
        assert reached, "PgBouncer had not logged in to the restarted server after 10 s"
        with ThreadPoolExecutor(len(clients)) as workers:
            list(workers.map(lambda c: c.execute("SELECT pg_sleep(0.1)"), clients))
        for client in clients:
            client.close()
    finally:
        pooler.stop()


@pytest.mark.parametrize("version", VERSIONS)
def test_a_named_prepared_statement_meets_another_server_connection_in_transaction_pooling(
        server: NativeServer, version: str) -> None:
    """What the 1.24 topologies change, on real PgBouncers: a protocol-level named statement
    (psycopg's prepare=True), then PgBouncer replaces the server connections (RECONNECT, as a busy
    pooler may at any transaction's end) and it runs again. 1.18 has no max_prepared_statements:
    the new server connection does not know it. 1.24 with spec/pgbouncer.yaml's settings prepares
    it there."""
    spec = Path(__file__).resolve().parents[1] / "spec"
    pooler = PgBouncer(server, "transaction", settings=version_settings(spec, version), version=version)
    try:
        pooler.start()
        pooler.warm("pooled_db", "pooled_role", "right-password")
        with _client(pooler, autocommit=True) as conn:
            backends, failure = set(), None
            try:
                for _ in range(2):
                    backends.add(conn.execute("SELECT pg_backend_pid() + %s", (0,), prepare=True).fetchone())
                    pooler.console.reconnect("pooled_db")
                    pooler.console.wait_servers("pooled_db", 1, 5, not_in={b[0] for b in backends})
            except psycopg.errors.InvalidSqlStatementName as exc:
                failure = exc
    finally:
        pooler.stop()
    if version == "1.18":
        assert failure is not None and "does not exist" in str(failure), backends
    else:
        assert failure is None and len(backends) == 2, (failure, backends)


def test_the_console_is_logged_into_once_for_many_looks_and_let_go_at_stop(server: NativeServer) -> None:
    """A pooled case asks the console a dozen times (RELOAD, SHOW polls, KILL, RESUME): one login
    serves them all, as PgBouncer's own log counts them, and stopping PgBouncer drops the kept one."""
    pooler = PgBouncer(server, "transaction")
    try:
        pooler.start()
        for _ in range(5):
            pooler.console.clients("pooled_db")
            pooler.console.command("RELOAD")
        pooler.sync_auth()
        logins = [line for line in pooler.log_path.read_text().splitlines() if "login attempt: db=pgbouncer" in line]
        assert len(logins) == 1, logins
        conninfo = pooler.console.conninfo
    finally:
        pooler.stop()
    assert not CONSOLE_CONNECTIONS.idle_count(conninfo), "a console connection kept after stop"
