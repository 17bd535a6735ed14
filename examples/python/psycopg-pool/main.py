"""A psycopg 3 ConnectionPool (psycopg_pool) sample, made runnable for the conformance harness.

The harness passes the connection in the standard libpq variables (PGHOST, PGPORT, ...), the
scenario in HARNESS_SCENARIO and its parameters as JSON in HARNESS_PARAMS. Standard output
carries exactly one JSON result line; what the sample prints goes to standard error.
psycopg 3 is built on libpq, which itself reads PGSSLMODE, PGSSLROOTCERT and PGAPPNAME, so TLS
settings apply without code here. psycopg 3 binds on the server: the values travel apart from
the SQL ($1, $2 in the extended protocol).
"""
import datetime
import decimal
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

# stdout carries the harness's JSON lines only: what the sample prints goes to stderr.
HARNESS_OUT, sys.stdout = sys.stdout, sys.stderr

# [HELPER PREPARE_THRESHOLD] psycopg's prepare_threshold: its default 5, or None (never prepare server-side) where this program's PREPARE_THRESHOLD=none says so (the PgBouncer transaction-mode fix)
# psycopg 3 prepares a statement server-side (_pg3_0, _pg3_1, ...) once a connection has run it
# 5 times. PgBouncer's transaction pooling (before 1.21's max_prepared_statements) cannot follow
# that: psycopg's documented fix is prepare_threshold=None. psycopg reads no variable for it, so
# this program does (the harness sets PREPARE_THRESHOLD=none for that row).
PREPARE_THRESHOLD = None if os.environ.get("PREPARE_THRESHOLD", "5").lower() == "none" else int(
    os.environ.get("PREPARE_THRESHOLD", "5"))


# The page's sample, which every scenario runs through: a ConnectionPool with the page's pool
# values as the defaults (the pg Pool sample's max 20, idle 30 s, 2 s to get a connection), the
# scenario's abstract settings (params.pool) over them, and a query through the pool.
# [START python_psycopg_pool]
def create_pool(settings=None, open=True, check=None):
    settings = settings or {}
    max_size = settings.get("max", 20)  # max connections in pool
    return ConnectionPool(
        kwargs={  # the page's values where no PG* variable is set
            "host": os.environ.get("PGHOST", "localhost"),
            "port": os.environ.get("PGPORT", "5432"),
            "dbname": os.environ.get("PGDATABASE", "mydb"),
            "user": os.environ.get("PGUSER", "postgres"),
            "password": os.environ.get("PGPASSWORD", "secret"),
            "prepare_threshold": PREPARE_THRESHOLD,  # None behind PgBouncer transaction pooling
        },
        min_size=settings.get("min_idle", min(4, max_size)),  # kept open (psycopg_pool's 4)
        max_size=max_size,
        max_idle=settings.get("idle_timeout_ms", 30000) / 1000,  # close idle after 30s
        timeout=settings.get("acquire_timeout_ms", 2000) / 1000,  # wait at most 2s for one
        check=check,  # ConnectionPool.check_connection: test each connection it lends
        open=open,
    )


def user_by_id(pool, user_id=1):
    # The block checks a connection out and gives it back at its end: committed, or rolled
    # back if the block raised. Never use `conn` after the block: it is the pool's again.
    with pool.connection() as conn:
        return conn.execute("SELECT id, name FROM users WHERE id = %s", (user_id,)).fetchall()
# [END python_psycopg_pool]


def rows(found):
    return [{"id": id_, "name": name} for id_, name in found]


def checkpoint(name):
    print(json.dumps({"type": "checkpoint", "name": name}), file=HARNESS_OUT, flush=True)
    sys.stdin.readline()  # the harness answers {"type": "continue", ...} when it is done


def fresh_connection(pool):
    """A connection outside the pool, made the way the pool makes each of its own."""
    return pool.connection_class.connect(pool.conninfo, **pool.kwargs)


# libpq gives no SQLSTATE for a failed connect (psycopg's sqlstate is None): the server's refusals
# arrive as text only, checked with psycopg 3.3.9 ("FATAL:  too many connections for role ...").
CONNECT_SQLSTATES = {
    "too many connections for role": "53300",
    "too many connections for database": "53300",
    "sorry, too many clients already": "53300",
    "remaining connection slots are reserved": "53300",
    "the database system is starting up": "57P03",
    "the database system is shutting down": "57P03",
}


def sqlstate(error):
    """The SQLSTATE of a failure, else the server's refusal mapped from its text, else the text."""
    code = getattr(error, "sqlstate", None)
    if code:
        return code
    message = str(error)
    return next((c for fragment, c in CONNECT_SQLSTATES.items() if fragment in message),
                f"{type(error).__name__}: {message.strip()}")


def run_all(tasks, task):
    """`task(i)` for i in range(tasks), all at once, one thread each; the burst summary."""
    succeeded, errors = 0, []
    with ThreadPoolExecutor(max_workers=tasks) as executor:
        for future in [executor.submit(task, i) for i in range(tasks)]:
            try:
                future.result()
                succeeded += 1
            except Exception as e:  # each failure is data in the summary
                errors.append(sqlstate(e))
    return {"succeeded": succeeded, "failed": len(errors), "errors": errors}


def burst(pool, tasks, sleep_seconds, in_transaction=False):
    """`tasks` pg_sleep queries at once through the pool; returns the burst summary."""
    def task(_):
        with pool.connection() as conn:  # committed when the block ends, rolled back on error
            if in_transaction:
                with conn.transaction():  # BEGIN ... COMMIT
                    conn.execute("SELECT pg_sleep(%s)", (sleep_seconds,))
            else:
                conn.execute("SELECT pg_sleep(%s)", (sleep_seconds,))

    return run_all(tasks, task)


# ---- core scenarios ---------------------------------------------------------------------

def connect_now(params):
    with create_pool(params.get("pool")) as pool, pool.connection() as conn:
        (now,) = conn.execute("SELECT NOW()").fetchone()
    print(now)
    return {"now": now.isoformat()}  # an aware datetime: the offset is included


def select_rows(params):
    with create_pool(params.get("pool")) as pool, pool.connection() as conn:
        return {"rows": rows(conn.execute("SELECT id, name FROM users ORDER BY id"))}


def param_query(params):
    # psycopg 3 binds on the server: the statement log shows $1 and the value apart.
    with create_pool(params.get("pool")) as pool:
        by_id = rows(user_by_id(pool, params["id"]))
        by_name = []
        for name in params["names"]:
            with pool.connection() as conn:
                by_name.append(rows(conn.execute(
                    "SELECT id, name FROM users WHERE name = %s ORDER BY id", (name,))))
    return {"by_id": by_id, "by_name": by_name}


def active_users(params):
    with create_pool(params.get("pool")) as pool, pool.connection() as conn:
        return {"rows": rows(conn.execute("SELECT id, name FROM users WHERE active ORDER BY id"))}


def related_rows(params):
    # One query for every active user and their holdings: the LEFT JOIN keeps a user who holds
    # nothing (one row with NULLs), where a query per user would be an N+1.
    with create_pool(params.get("pool")) as pool, pool.connection() as conn:
        found = conn.execute(
            "SELECT u.id, u.name, h.symbol, h.shares FROM users u"
            " LEFT JOIN holdings h ON h.user_id = u.id"
            " WHERE u.active ORDER BY u.id, h.id"
        ).fetchall()
    users = {}
    for id_, name, symbol, shares in found:
        user = users.setdefault(id_, {"id": id_, "name": name, "holdings": []})
        if symbol is not None:
            user["holdings"].append({"symbol": symbol, "shares": shares})
    return {"users": list(users.values())}


INSERT_USER = "INSERT INTO users (id, name, active) VALUES (%s, %s, %s)"


def transaction(params):
    # One checked-out connection; conn.transaction() is BEGIN ... COMMIT (ROLLBACK when its block
    # raises, psycopg.Rollback included, which it swallows).
    prefix = params["name_prefix"]

    def insert(conn, key):
        conn.execute(INSERT_USER, (params[key], f"{prefix} {params[key]}", True))

    with create_pool(params.get("pool")) as pool, pool.connection() as conn:
        with conn.transaction():
            insert(conn, "committed_id")
        with conn.transaction() as tx:
            insert(conn, "rolled_back_id")
            raise psycopg.Rollback(tx)
        failed_sqlstate = None
        try:
            with conn.transaction():
                insert(conn, "failed_id")
                insert(conn, "duplicate_id")
        except psycopg.errors.UniqueViolation as e:  # rolled back: failed_id goes with it
            failed_sqlstate = e.sqlstate
            print(f"expected failure: {e.sqlstate} {e}")
        visible = [id_ for (id_,) in conn.execute("SELECT id FROM users WHERE id >= 1000 ORDER BY id")]
    return {"visible": visible, "failed_sqlstate": failed_sqlstate}


def error_sqlstate(params):
    with create_pool(params.get("pool")) as pool, pool.connection() as conn:
        sqlstates = {}
        for key, query, args in [
            ("unique_violation", INSERT_USER,
             (params["duplicate_id"], f"duplicate {params['duplicate_id']}", True)),
            ("syntax_error", params["bad_sql"], None),
        ]:
            try:
                with conn.transaction():
                    conn.execute(query, args)
                sqlstates[key] = None
            except psycopg.Error as e:
                sqlstates[key] = e.sqlstate
                print(f"expected failure: {e.sqlstate} {e}")
        (after,) = conn.execute("SELECT 1").fetchone()
    return {**sqlstates, "after": after}


def types(params):
    v = params["values"]
    native = (
        int(v["int8"]),  # a Python int: no precision lost
        decimal.Decimal(v["numeric"]),
        v["text"],
        v["bool"],
        datetime.datetime.fromisoformat(v["timestamptz"]),  # aware (the "Z" is UTC)
        datetime.date.fromisoformat(v["date"]),
        bytes.fromhex(v["bytea"]),
        Jsonb(v["jsonb"]),  # a dict alone would have no PostgreSQL type to be sent as
        v["int_array"],  # a list becomes an array
        v["null"],
    )
    with create_pool(params.get("pool")) as pool, pool.connection() as conn:
        (probe_id,) = conn.execute(
            "INSERT INTO type_probe (i8, num, txt, flag, ts, d, bin, doc, arr, nothing)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id", native).fetchone()
        conn.commit()
        i8, num, txt, flag, ts, d, bin_, doc, arr, nothing = conn.execute(
            "SELECT i8, num, txt, flag, ts, d, bin, doc, arr, nothing FROM type_probe WHERE id = %s",
            (probe_id,)).fetchone()
    # What psycopg 3 gives back: int, Decimal, str, bool, aware datetime (in the session's
    # TimeZone), date, bytes, parsed JSON, list, None.
    return {"values": {
        "int8": str(i8),
        "numeric": str(num),
        "text": txt,
        "bool": flag,
        "timestamptz": ts.astimezone(datetime.timezone.utc).isoformat(),
        "date": d.isoformat(),
        "bytea": bytes(bin_).hex(),
        "jsonb": doc,
        "int_array": arr,
        "null": nothing,
    }}


# ---- pool scenarios ---------------------------------------------------------------------

def pool_bounded(params):
    with create_pool(params.get("pool")) as pool:
        start = time.monotonic()
        summary = burst(pool, params["concurrency"], params["sleep_seconds"])
        summary["elapsed_ms"] = round((time.monotonic() - start) * 1000)
    return summary


def pool_reuse(params):
    pids = []
    with create_pool(params.get("pool")) as pool:
        for _ in range(params["queries"]):
            with pool.connection() as conn:
                pids.append(conn.execute("SELECT pg_backend_pid()").fetchone()[0])
    return {"pids": pids}


def pool_release(params):
    pool = create_pool(params.get("pool"))
    summary = burst(pool, params["concurrency"], params.get("sleep_seconds", 0), in_transaction=True)
    checkpoint("after_work")
    pool.close()  # closes every pooled connection
    checkpoint("after_close")
    return summary


def pool_release_on_error(params):
    # A statement fails inside the transaction of a checked-out connection: leaving the `with
    # pool.connection()` block with the error rolls it back before the pool takes it back.
    prefix, failed_sqlstate, pid = params["name_prefix"], None, None
    pool = create_pool(params.get("pool"))
    try:
        with pool.connection() as conn:
            (pid,) = conn.execute("SELECT pg_backend_pid()").fetchone()
            conn.commit()
            with conn.transaction():
                for key in ("row_id", "duplicate_id"):  # the second is taken: 23505
                    conn.execute(INSERT_USER, (params[key], f"{prefix} {params[key]}", True))
    except psycopg.errors.UniqueViolation as e:
        failed_sqlstate = e.sqlstate
        print(f"expected failure: {e.sqlstate} {e}")
    checkpoint("after_error")
    with pool.connection() as conn:
        (after,) = conn.execute("SELECT 1").fetchone()
    pool.close()
    checkpoint("after_close")
    return {"pid": pid, "failed_sqlstate": failed_sqlstate, "after": after}


def pool_acquire_timeout(params):
    with create_pool(params.get("pool")) as pool, pool.connection() as held:
        held.execute("SELECT 1")
        start = time.monotonic()
        try:
            with pool.connection():
                error = None
        except PoolTimeout as e:  # psycopg_pool's own "couldn't get a connection after 1.00 sec"
            error = {"kind": "pool_timeout", "type": f"psycopg_pool.{type(e).__name__}", "message": str(e)}
        except Exception as e:
            error = {"kind": "other", "type": type(e).__name__, "message": str(e)}
        elapsed_ms = round((time.monotonic() - start) * 1000)
    return {"error": error, "elapsed_ms": elapsed_ms}


def pool_idle_timeout(params):
    with create_pool(params.get("pool")) as pool:
        summary = burst(pool, params["burst"], params["sleep_seconds"])
        checkpoint("after_burst")  # the harness watches idle connections close meanwhile
        summary["idle_timeout_ms"] = round(pool.max_idle * 1000)
    return summary


def pool_recovery(params):
    # check_connection tests every connection before the pool lends it (an empty query): one
    # that died in the fault is thrown away and replaced, never handed to a task.
    with create_pool(params.get("pool"), check=ConnectionPool.check_connection) as pool:
        first = burst(pool, params["concurrency"], params["sleep_seconds"])
        checkpoint("between_bursts")
        second = burst(pool, params["concurrency"], params["sleep_seconds"])
    return {"first": first, "second": second}


def no_pool_exhaustion(params):
    requests, sleep_seconds = params["requests"], params["sleep_seconds"]
    pool = create_pool(params.get("pool"))
    pooled = burst(pool, requests, sleep_seconds)
    pool.close()
    checkpoint("after_pooled")  # the pool is closed: the harness counts its connections

    def unpooled_request(_):  # the pitfall the page warns about: a connection per request
        with fresh_connection(pool) as conn:
            conn.execute("SELECT pg_sleep(%s)", (sleep_seconds,))

    return {"pooled": pooled, "unpooled": run_all(requests, unpooled_request)}


def story_pool_sizing(params):
    """The same burst through a pool of each size in params.sizes: every request at once, half
    CPU-bound on the server, half waiting. Per request: the wait for a pooled connection and
    the whole latency."""
    results = []
    for size in params["sizes"]:
        checkpoint(f"before_{size}")
        with create_pool({"max": size, "acquire_timeout_ms": 120000}) as pool:
            def request(i):
                start = time.perf_counter()
                with pool.connection() as conn:  # a pooled connection, or a wait for one
                    acquired = time.perf_counter()
                    if i % 2:
                        conn.execute("SELECT pg_sleep(%s)", (params["sleep_seconds"],))
                    else:
                        conn.execute("SELECT sum(i) FROM generate_series(1, %s) AS i", (params["cpu_rows"],))
                return (acquired - start) * 1000, (time.perf_counter() - start) * 1000

            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=params["requests"]) as executor:
                timings = list(executor.map(request, range(params["requests"])))
            elapsed_ms = (time.perf_counter() - start) * 1000
        checkpoint(f"after_{size}")
        results.append({"size": size, "elapsed_ms": round(elapsed_ms, 3),
                        "wait_ms": [round(w, 3) for w, _ in timings],
                        "latency_ms": [round(t, 3) for _, t in timings]})
    return {"sizes": results}


def story_pool_exhaustion(params):
    """The page's first story: params["services"] services, each with a pool of its own (max
    params["pool"]["max"]), under one steady load. Every wave_interval_ms each service gets
    wave_size requests at once; long_per_wave of them hold their connection for a long query
    (work on the server: a sum over long_rows rows, short_rows for the rest). A refused request
    (53300) is counted, not raised. psycopg_pool opens connections in its own workers and retries
    a refused one itself (the driver's own retry, so params["retry"] is unused): a request only
    waits, from its first attempt, and fails with PoolTimeout when acquire_timeout_ms passes
    (counted as failed, not refused)."""
    pools = [create_pool(params["pool"]) for _ in range(params["services"])]
    results = [{"succeeded": 0, "refused": 0, "failed": 0, "errors": [], "wait_ms": [], "latency_ms": []}
               for _ in pools]
    counting = threading.Lock()

    def request(service, rows):
        result, start = results[service], time.perf_counter()
        try:
            with pools[service].connection() as conn:
                acquired = time.perf_counter()
                conn.execute("SELECT sum(i) FROM generate_series(1, %s) AS i", (rows,))
        except Exception as e:  # each failure is data: refused (53300) or failed
            code = sqlstate(e)
            with counting:
                result["refused" if code == "53300" else "failed"] += 1
                if code not in result["errors"]:
                    result["errors"].append(code)
            return
        with counting:
            result["succeeded"] += 1
            result["wait_ms"].append(round((acquired - start) * 1000, 3))
            result["latency_ms"].append(round((time.perf_counter() - start) * 1000, 3))

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=2 * params["services"] * params["wave_size"]) as executor:
            for wave in range(params["waves"]):
                # A steady pace, whatever the last wave is still doing.
                time.sleep(max(0.0, started + wave * params["wave_interval_ms"] / 1000 - time.perf_counter()))
                for service in range(params["services"]):
                    for i in range(params["wave_size"]):
                        long = i < params["long_per_wave"]
                        executor.submit(request, service, params["long_rows"] if long else params["short_rows"])
        elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
    finally:
        for pool in pools:
            pool.close()
    return {"services": results, "elapsed_ms": elapsed_ms}


def ledger_stream(params):
    """The page's cutover story, seen from a service: `writers` threads, each committing a
    short transaction (a ledger row with an id it made) every interval_ms. An id counts as
    acknowledged only once COMMIT returned; a failure is reported with its error. It knows
    nothing of PgBouncer's PAUSE/RESUME: the harness does that at checkpoint `streaming`."""
    acknowledged, failed, latency_ms = [], [], []
    lock, streaming = threading.Lock(), threading.Event()
    streaming.set()

    def writer(pool, w):
        n = 0
        while streaming.is_set():
            n += 1
            row_id = w * 1000000 + n
            start = time.perf_counter()
            try:
                with pool.connection() as conn, conn.transaction():  # BEGIN ... COMMIT
                    conn.execute("INSERT INTO ledger (id, writer) VALUES (%s, %s)", (row_id, w))
                outcome = (acknowledged, row_id)
            except (psycopg.Error, PoolTimeout) as e:
                print(f"transaction {row_id} failed: {e}")
                outcome = (failed, {"id": row_id, "sqlstate": getattr(e, "sqlstate", None), "message": str(e).strip()})
            with lock:
                outcome[0].append(outcome[1])
                latency_ms.append([row_id, round((time.perf_counter() - start) * 1000, 3)])  # checkout to COMMIT
            time.sleep(params["interval_ms"] / 1000)

    with create_pool(params.get("pool")) as pool:
        threads = [threading.Thread(target=writer, args=(pool, w)) for w in range(1, params["writers"] + 1)]
        for thread in threads:
            thread.start()
        time.sleep(params["stream_before_seconds"])
        checkpoint("streaming")
        time.sleep(params["stream_after_seconds"])
        streaming.clear()
        for thread in threads:
            thread.join()
    return {"acknowledged": acknowledged, "failed": failed, "latency_ms": latency_ms}


# ---- lifecycle scenarios ----------------------------------------------------------------

# libpq gives no SQLSTATE for a failed connect: only the server's or OpenSSL's message, so the
# kind is read from the text.
CONNECT_ERROR_KINDS = {
    "certificate verify failed": "certificate",
    "does not match host name": "certificate",
    "pg_hba.conf": "refused",
    "password authentication failed": "auth",
}


def failed_connect(params):
    """Connect the way the pool does and report the driver's error. The pool itself would retry
    in its workers and raise a PoolTimeout without the cause after `timeout` (logging the cause
    as a warning), so the pool's own connect call is made once, with the pool's settings."""
    pool = create_pool(params.get("pool"), open=False)  # its settings only: no connection opened
    start = time.monotonic()
    try:
        with fresh_connection(pool) as conn:
            conn.execute("SELECT 1")
        error = {"kind": "none", "type": "none", "sqlstate": None, "message": "connected"}
    except psycopg.OperationalError as e:
        message = str(e).strip()
        print(f"expected failure: {message}")
        kind = next((k for fragment, k in CONNECT_ERROR_KINDS.items() if fragment in message), "other")
        error = {"kind": kind, "type": f"psycopg.{type(e).__name__}", "sqlstate": e.sqlstate, "message": message}
    return {"error": error, "elapsed_ms": round((time.monotonic() - start) * 1000, 2)}


def tls_verify_full(params):
    # libpq verifies the server against PGSSLROOTCERT (PGSSLMODE=verify-full)
    with create_pool(params.get("pool")) as pool, pool.connection() as conn:
        ssl, version, cipher = conn.execute(
            "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        checkpoint("connected")  # the harness reads pg_stat_ssl while this connection is open
    return {"ssl": ssl, "version": version, "cipher": cipher}


def connect_latency(params):
    """Fresh connections timed one by one (the pool's own connect call, outside the pool), then
    queries through the pool. Plain or TLS is the environment's choice (PGSSLMODE)."""
    pool = create_pool(params.get("pool"), open=False)
    connect_ms = []
    for _ in range(params["connections"]):
        start = time.perf_counter()
        conn = fresh_connection(pool)  # returns once TLS (if any) and SCRAM are done
        connect_ms.append(round((time.perf_counter() - start) * 1000, 3))
        conn.close()
    pool.open(wait=True)  # its min_size connections made before the timing
    with pool:
        user_by_id(pool)  # warm-up
        query_ms = []
        for _ in range(params["queries"]):
            start = time.perf_counter()
            with pool.connection() as conn:  # acquire, query, release
                conn.execute("SELECT 1").fetchone()
            query_ms.append(round((time.perf_counter() - start) * 1000, 3))
    return {"connect_ms": connect_ms, "query_ms": query_ms, "pooled": True}


# ---- session state, for the PgBouncer matrix (docs/pgbouncer.md) -----------------------------
# A statement prepared by name and a session setting live in one server session, which
# transaction pooling does not keep. Each statement is committed as a transaction of its own.

def prepared_statement_reuse(params):
    # psycopg 3 has no API that names a statement: execute(..., prepare=True) prepares it at
    # the protocol level under psycopg's own name (_pg3_0) and later executions run it by that
    # name. With prepare_threshold=None psycopg prepares nothing, prepare=True included.
    with create_pool(params.get("pool")) as pool, pool.connection() as conn:
        results = []
        for id_ in params["ids"]:
            found = conn.execute("SELECT id, name FROM users WHERE id = %s", (id_,), prepare=True)
            results.append(rows(found))
            conn.commit()
            if len(results) == 1:
                checkpoint("prepared")  # the harness may replace server connections here
    return {"results": results}


def single_value(conn, query, args):
    (value,) = conn.execute(query, args).fetchone()
    conn.commit()
    return value


def session_set(params):
    # set_config(name, value, false) is SET for the session, with the value bound. Client 1 sets
    # it, client 2 reads it, client 1 reads it back; at the checkpoints the harness may replace
    # server connections.
    read = "SELECT current_setting(%s, true)"
    with create_pool(params.get("pool")) as pool, pool.connection() as first, pool.connection() as second:
        checkpoint("connected")
        single_value(first, "SELECT set_config(%s, %s, false)", (params["setting"], params["value"]))
        other_client_read = single_value(second, read, (params["setting"],))
        checkpoint("before_read_back")
        return {"read_back": single_value(first, read, (params["setting"],)), "other_client_read": other_client_read}


def advisory_lock(params):
    # A session advisory lock: client 1 takes it, client 2 tries it, client 1 unlocks it.
    with create_pool(params.get("pool")) as pool, pool.connection() as first, pool.connection() as second:
        checkpoint("connected")
        single_value(first, "SELECT pg_advisory_lock(%s)", (params["key"],))
        other_client_got_it = single_value(second, "SELECT pg_try_advisory_lock(%s)", (params["key"],))
        checkpoint("before_unlock")
        unlocked = single_value(first, "SELECT pg_advisory_unlock(%s)", (params["key"],))
        return {"other_client_got_it": other_client_got_it, "unlocked": unlocked}


SCENARIOS = {f.__name__: f for f in [
    connect_now, select_rows, param_query, active_users, related_rows, transaction, error_sqlstate, types,
    pool_bounded, pool_reuse, pool_release, pool_release_on_error, pool_acquire_timeout, pool_idle_timeout,
    no_pool_exhaustion, story_pool_sizing, story_pool_exhaustion,
    tls_verify_full, connect_latency, prepared_statement_reuse, session_set, advisory_lock,
]}
SCENARIOS.update({
    "pool_recovery_terminate": pool_recovery, "pool_recovery_restart": pool_recovery,
    "story_pause_resume_cutover": ledger_stream, "story_pause_resume_limit": ledger_stream,
    "tls_wrong_ca": failed_connect, "tls_wrong_host": failed_connect, "plaintext_refused": failed_connect,
    "auth_wrong_password": failed_connect, "connect_latency_tls": connect_latency,
})


def main():
    scenario = os.environ.get("HARNESS_SCENARIO", "")
    if scenario not in SCENARIOS:
        print(f"unknown scenario: {scenario!r}", file=sys.stderr)
        return 2
    params = json.loads(os.environ.get("HARNESS_PARAMS") or "{}")
    data = SCENARIOS[scenario](params)
    print(json.dumps({"type": "result", "scenario": scenario, "data": data}), file=HARNESS_OUT, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
