"""Plumbing shared by the examples under tests/bad_examples/: the contract of
docs/adding-a-driver.md done right (connection from the PG* variables, one JSON result line,
checkpoints on stdin/stdout, a small bounded pool), so that each wrong example differs from a
correct one only in its one deliberate mistake. Found through PYTHONPATH=../.. in run.command."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import psycopg

SCENARIO = os.environ.get("HARNESS_SCENARIO", "")
PARAMS: dict[str, Any] = json.loads(os.environ.get("HARNESS_PARAMS") or "{}")


def connect(autocommit: bool = True) -> psycopg.Connection:
    """libpq reads PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE and PGAPPNAME itself."""
    return psycopg.connect("", autocommit=autocommit)


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def result(data: dict[str, Any]) -> None:
    emit({"type": "result", "scenario": SCENARIO, "data": data})


def checkpoint(name: str) -> None:
    emit({"type": "checkpoint", "name": name})
    reply = json.loads(sys.stdin.readline())
    if reply != {"type": "continue", "name": name}:
        sys.exit(f"unexpected reply to checkpoint {name}: {reply!r}")


def state_file(name: str) -> Path:
    """A file the test can read after the run (tests/conftest.py sets BAD_EXAMPLE_STATE)."""
    return Path(os.environ["BAD_EXAMPLE_STATE"]) / name


_held_locks: list[Any] = []
SLEEPER = ("import fcntl, sys, time\n"
           "lock = open(sys.argv[1], 'w'); fcntl.flock(lock, fcntl.LOCK_EX)\n"
           "open(sys.argv[1] + '.held', 'w').close()\n"
           "time.sleep(3600)")


def hold_lock(name: str) -> None:
    """Holds <state>/<name>.lock while this process lives. Pids inside the case's PID namespace
    mean nothing to the test outside it; a lock it can take again shows the process is gone."""
    import fcntl
    lock = open(state_file(name + ".lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    _held_locks.append(lock)


def locked_sleeper(name: str) -> "subprocess.Popen[bytes]":
    """A child that sleeps for an hour holding <state>/<name>.lock; returns once it holds it."""
    import subprocess
    path = state_file(name + ".lock")
    child = subprocess.Popen([sys.executable, "-c", SLEEPER, str(path)])
    while not Path(str(path) + ".held").exists():
        time.sleep(0.01)
    return child


def unknown_scenario() -> None:
    print(f"unknown scenario {SCENARIO!r}", file=sys.stderr)
    sys.exit(2)


# -- core scenarios, done right --------------------------------------------------------------
def server_now() -> str:
    with connect() as conn:
        return conn.execute("SELECT now()").fetchone()[0].isoformat()


def user_rows() -> list[dict[str, Any]]:
    with connect() as conn:
        rows = conn.execute("SELECT id, name FROM users ORDER BY id").fetchall()
    return [{"id": i, "name": n} for i, n in rows]


def active_user_rows() -> list[dict[str, Any]]:
    with connect() as conn:
        rows = conn.execute("SELECT id, name FROM users WHERE active ORDER BY id").fetchall()
    return [{"id": i, "name": n} for i, n in rows]


def users_with_holdings(users: list[dict[str, Any]], holdings: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
    """`users` with their holdings from (user_id, symbol, shares) rows in holding order."""
    return [{**u, "holdings": [{"symbol": s, "shares": n} for uid, s, n in holdings if uid == u["id"]]}
            for u in users]


# -- a small bounded pool ----------------------------------------------------------------------
class PoolTimeout(Exception):
    pass


class MiniPool:
    """At most `max` connections; an acquire waits at most `acquire_timeout_ms`; a connection
    is validated before it is handed out (so the pool survives a server restart)."""

    def __init__(self, max: int, acquire_timeout_ms: float | None = 30000, validate: bool = True) -> None:
        self.max = max
        self.acquire_timeout = None if acquire_timeout_ms is None else acquire_timeout_ms / 1000
        self.validate = validate
        self._slots = threading.BoundedSemaphore(max)
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()

    def getconn(self) -> psycopg.Connection:
        if not self._slots.acquire(timeout=self.acquire_timeout):
            raise PoolTimeout(f"no connection within {self.acquire_timeout * 1000:.0f} ms")  # type: ignore[operator]
        try:
            while True:
                with self._lock:
                    conn = self._idle.pop() if self._idle else None
                if conn is None:
                    return connect()
                if not self.validate:
                    return conn
                try:
                    conn.execute("SELECT 1")
                    return conn
                except psycopg.OperationalError:
                    conn.close()  # broken (server restarted, backend killed): drop it, try the next
        except BaseException:
            self._slots.release()
            raise

    def putconn(self, conn: psycopg.Connection) -> None:
        if conn.broken or conn.closed:
            conn.close()
        else:
            with self._lock:
                self._idle.append(conn)
        self._slots.release()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        conn = self.getconn()
        try:
            yield conn
        finally:
            self.putconn(conn)

    def close(self, wait: bool = False) -> None:
        """Closes the idle connections; with wait=True first waits until every connection is
        back, as node-postgres's pool.end() does (so a connection never released blocks it)."""
        if wait:
            for _ in range(self.max):
                self._slots.acquire()
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def error_text(exc: BaseException) -> str:
    # libpq has no SQLSTATE for a refused connection, only the server's message.
    if "too many connections for role" in str(exc):
        return "53300"
    return getattr(exc, "sqlstate", None) or f"{type(exc).__name__}: {exc}"


def run_burst(tasks: int, work) -> dict[str, Any]:
    """Runs `work()` in `tasks` threads at once; a burst summary of the outcomes."""
    errors: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - a failed task is data in the summary
            with lock:
                errors.append(error_text(exc))

    threads = [threading.Thread(target=one) for _ in range(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"succeeded": tasks - len(errors), "failed": len(errors), "errors": errors}


def sleep_burst(pool: MiniPool, tasks: int, sleep_seconds: float) -> dict[str, Any]:
    def work() -> None:
        with pool.connection() as conn:
            conn.execute("SELECT pg_sleep(%s)", [sleep_seconds])
    return run_burst(tasks, work)


def timed(fn) -> tuple[Any, int]:
    start = time.monotonic()
    value = fn()
    return value, int((time.monotonic() - start) * 1000)


# -- lifecycle scenarios, done right ---------------------------------------------------------
def tls_self_report() -> dict[str, Any]:
    """Connect as the environment says (PGSSLMODE, PGSSLROOTCERT), report the backend's own
    pg_stat_ssl row, and hold the connection over checkpoint `connected`."""
    with connect() as conn:
        ssl, version, cipher = conn.execute(
            "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        checkpoint("connected")
    return {"ssl": ssl, "version": version, "cipher": cipher}


def failed_connect(kind_of: Any) -> dict[str, Any]:
    """Try to connect; report the driver's error, classified by kind_of(message)."""
    start = time.monotonic()
    try:
        connect().close()
        error = {"kind": "none", "type": "none", "sqlstate": None, "message": "connected"}
    except psycopg.OperationalError as exc:
        error = {"kind": kind_of(str(exc)), "type": type(exc).__name__, "sqlstate": exc.sqlstate, "message": str(exc)}
    return {"error": error, "elapsed_ms": round((time.monotonic() - start) * 1000, 2)}


def connect_latency() -> dict[str, Any]:
    return connect_latency_of(PARAMS["connections"], PARAMS["queries"])


def connect_latency_of(connections: int, query_count: int) -> dict[str, Any]:
    connects, queries = [], []
    for _ in range(connections):
        start = time.perf_counter()
        conn = connect()
        connects.append((time.perf_counter() - start) * 1000)
        conn.close()
    with connect() as conn:
        for _ in range(query_count):
            start = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            queries.append((time.perf_counter() - start) * 1000)
    return {"connect_ms": connects, "query_ms": queries, "pooled": False}


# -- pool_release_on_error, done right up to the release -------------------------------------
def backend_pid(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])


def failing_transaction(conn: psycopg.Connection) -> None:
    """BEGIN, insert row_id, insert duplicate_id (taken: 23505 is raised), COMMIT never reached."""
    conn.execute("BEGIN")
    for key in ("row_id", "duplicate_id"):
        conn.execute("INSERT INTO users (id, name, active) VALUES (%s, %s, true)",
                     [PARAMS[key], f"{PARAMS['name_prefix']} {PARAMS[key]}"])
    conn.execute("COMMIT")


def fail_and_return_unrolled(pool: MiniPool) -> tuple[int | None, str | None]:
    """The deliberate mistake of the release-on-error wrong examples: a failing transaction on a
    checked-out connection, then back to the pool with it still open (no ROLLBACK). Returns the
    backend pid and the failure's SQLSTATE."""
    pid = sqlstate = None
    conn = pool.getconn()
    try:
        pid = backend_pid(conn)
        failing_transaction(conn)
    except psycopg.errors.UniqueViolation as exc:
        sqlstate = exc.sqlstate
    finally:
        pool.putconn(conn)
    return pid, sqlstate


def select_one_or_sqlstate(pool: MiniPool) -> Any:
    """The pool still answers: 1, or the SQLSTATE of what went wrong."""
    try:
        with pool.connection() as conn:
            return conn.execute("SELECT 1").fetchone()[0]
    except psycopg.Error as exc:
        return exc.sqlstate or str(exc)


# -- pool_acquire_timeout and no_pool_exhaustion, done right with the pool given -------------
def second_acquire(pool: MiniPool) -> dict[str, Any]:
    """Hold one connection, time a second acquire; its error (or none) as data."""
    held = pool.getconn()
    start = time.monotonic()
    try:
        second = pool.getconn()
        error = {"kind": "none", "type": "none", "message": "the second acquire succeeded"}
    except PoolTimeout as exc:
        second, error = None, {"kind": "pool_timeout", "type": "PoolTimeout", "message": str(exc)}
    elapsed = int((time.monotonic() - start) * 1000)
    if second is not None:
        # Used for a moment, as a caller would: the connection log has millisecond timestamps, and
        # two connections opened and closed within one millisecond cannot be told apart from one
        # replacing the other (harness.scenarios.pools.peak_open_connections counts a close first).
        second.execute("SELECT pg_sleep(0.02)")
        pool.putconn(second)
    pool.putconn(held)
    pool.close()
    return {"error": error, "elapsed_ms": elapsed}


def pooled_then_unpooled(pool: MiniPool) -> dict[str, Any]:
    """The requests through the pool (closed before checkpoint after_pooled), then the same
    requests with a connection each."""
    pooled = sleep_burst(pool, PARAMS["requests"], PARAMS["sleep_seconds"])
    pool.close()
    checkpoint("after_pooled")

    def unpooled_request() -> None:
        with connect() as conn:
            conn.execute("SELECT pg_sleep(%s)", [PARAMS["sleep_seconds"]])
    return {"pooled": pooled, "unpooled": run_burst(PARAMS["requests"], unpooled_request)}


# -- the pool-exhaustion story, done right -----------------------------------------------------
def story_request(pool: MiniPool, rows: int) -> float:
    """One request: a connection from the service's pool, its query (a sum over `rows` rows, work
    on the server); returns the pool wait (ms)."""
    start = time.perf_counter()
    with pool.connection() as conn:
        waited = (time.perf_counter() - start) * 1000
        # Never a named server-side statement (psycopg prepares after 5 runs on a connection):
        # in transaction pooling the next run may meet another server connection.
        conn.execute("SELECT sum(i) FROM generate_series(1, %s) AS i", [rows], prepare=False)
    return waited


def story_load(pools: list[MiniPool], request: Any = story_request) -> dict[str, Any]:
    """The story's steady load (PARAMS: waves of wave_size requests per service, long_per_wave of
    them long), each service's requests through pools[service], a refused one retried with
    PARAMS["retry"]'s backoff; the result per service."""
    from concurrent.futures import ThreadPoolExecutor
    tally = [{"succeeded": 0, "refused": 0, "failed": 0, "retries": 0, "errors": [], "wait_ms": [],
              "latency_ms": []} for _ in range(PARAMS["services"])]
    lock = threading.Lock()
    retry = PARAMS["retry"]

    def one(service: int, rows: int) -> None:
        start = time.perf_counter()
        for attempt in range(1, retry["attempts"] + 1):
            try:
                waited = (time.perf_counter() - start) * 1000 + request(pools[service], rows)
                break
            except Exception as exc:  # noqa: BLE001 - a failed request is data
                code = error_text(exc)
                if code == "53300" and attempt < retry["attempts"]:
                    with lock:
                        tally[service]["retries"] += 1
                    time.sleep(min(retry["backoff_ms"] * 2 ** (attempt - 1), retry["backoff_max_ms"]) / 1000)
                    continue
                with lock:
                    tally[service]["refused" if code == "53300" else "failed"] += 1
                    tally[service]["errors"] = sorted(set(tally[service]["errors"]) | {code})
                return
        with lock:
            tally[service]["succeeded"] += 1
            tally[service]["wait_ms"].append(round(waited, 3))
            tally[service]["latency_ms"].append(round((time.perf_counter() - start) * 1000, 3))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2 * PARAMS["services"] * PARAMS["wave_size"]) as executor:
        for wave in range(PARAMS["waves"]):
            time.sleep(max(0.0, started + wave * PARAMS["wave_interval_ms"] / 1000 - time.perf_counter()))
            for service in range(PARAMS["services"]):
                for i in range(PARAMS["wave_size"]):
                    long = i < PARAMS["long_per_wave"]
                    executor.submit(one, service, PARAMS["long_rows"] if long else PARAMS["short_rows"])
    for pool in set(pools):
        pool.close()
    return {"services": tally}
