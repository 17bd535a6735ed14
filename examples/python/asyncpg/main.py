"""An asyncpg pool sample (asyncio), made runnable for the conformance harness.

The harness passes the connection in the standard libpq variables (PGHOST, PGPORT, ...), the
scenario in HARNESS_SCENARIO and its parameters as JSON in HARNESS_PARAMS. Standard output
carries exactly one JSON result line; what the sample prints goes to standard error.
asyncpg is not built on libpq: it speaks the protocol itself (binary format, parameters bound
on the server) and does TLS with Python's ssl module. It understands libpq's sslmode names:
verify-full checks the CA (PGSSLROOTCERT) and the host name.
"""
import asyncio
import datetime
import decimal
import json
import os
import ssl
import sys
import time

import asyncpg

# stdout carries the harness's JSON lines only: what the sample prints goes to stderr.
HARNESS_OUT, sys.stdout = sys.stdout, sys.stderr

# [HELPER STATEMENT_CACHE_SIZE] asyncpg's statement_cache_size: its default 100, or 0 where this program's STATEMENT_CACHE_SIZE says so (the PgBouncer transaction-mode fix)
# asyncpg prepares every statement with arguments as a named server-side statement
# (__asyncpg_stmt_1__, ...) and caches it per connection. PgBouncer's transaction pooling (before
# 1.21's max_prepared_statements) cannot follow that: asyncpg's documented fix is
# statement_cache_size=0. asyncpg reads no variable for it, so this program does.
STATEMENT_CACHE_SIZE = int(os.environ.get("STATEMENT_CACHE_SIZE", "100"))


# The page's sample, which every scenario runs through: a pool with the page's pool values as
# the defaults (the pg Pool sample's max 20, idle 30 s, 2 s to get a connection), the scenario's
# abstract settings (params.pool) over them, and a query through the pool.
# [START python_asyncpg]
async def create_pool(settings=None):
    settings = settings or {}
    max_size = settings.get("max", 20)  # max connections in pool
    return await asyncpg.create_pool(
        host=os.environ.get("PGHOST", "localhost"),
        port=int(os.environ.get("PGPORT", "5432")),
        database=os.environ.get("PGDATABASE", "mydb"),
        user=os.environ.get("PGUSER", "postgres"),
        password=os.environ.get("PGPASSWORD", "secret"),
        ssl=os.environ.get("PGSSLMODE", "verify-full"),  # CA (PGSSLROOTCERT) and host name
        server_settings={"application_name": os.environ.get("PGAPPNAME", "asyncpg-sample")},
        min_size=settings.get("min_idle", min(10, max_size)),  # kept open (asyncpg's 10)
        max_size=max_size,
        max_inactive_connection_lifetime=settings.get("idle_timeout_ms", 30000) / 1000,  # 30s
        statement_cache_size=STATEMENT_CACHE_SIZE,  # 0 behind PgBouncer transaction pooling
    )


async def user_by_id(pool, user_id=1, timeout=2.0):
    # acquire() waits at most `timeout` seconds for a connection; the block gives it back (reset)
    # at its end, also when it raised. Never use `conn` after the block.
    async with pool.acquire(timeout=timeout) as conn:
        return await conn.fetch("SELECT id, name FROM users WHERE id = $1", user_id)
# [END python_asyncpg]


def acquire_timeout(settings):
    """The page's 2 s to get a connection, or the scenario's (asyncpg bounds each acquire)."""
    return (settings or {}).get("acquire_timeout_ms", 2000) / 1000


def rows(records):
    return [{"id": r["id"], "name": r["name"]} for r in records]


async def checkpoint(name):
    print(json.dumps({"type": "checkpoint", "name": name}), file=HARNESS_OUT, flush=True)
    # Read the harness's answer off the event loop, so that the pool goes on seeing its
    # connections (a backend the harness kills meanwhile is noticed as closed).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


def sqlstate(error):
    """The server's SQLSTATE (asyncpg gives one for refused logins too), else the error's text."""
    return getattr(error, "sqlstate", None) or f"{type(error).__name__}: {error}"


async def run_all(tasks, task):
    """`task()` `tasks` times at once; the burst summary."""
    outcomes = await asyncio.gather(*(task() for _ in range(tasks)), return_exceptions=True)
    errors = [sqlstate(o) for o in outcomes if isinstance(o, Exception)]
    return {"succeeded": tasks - len(errors), "failed": len(errors), "errors": errors}


async def burst(pool, tasks, sleep_seconds, timeout=2.0, in_transaction=False):
    """`tasks` pg_sleep queries at once through the pool; returns the burst summary."""
    async def task():
        async with pool.acquire(timeout=timeout) as conn:
            if in_transaction:
                async with conn.transaction():  # BEGIN ... COMMIT (ROLLBACK if it raised)
                    await conn.execute("SELECT pg_sleep($1)", sleep_seconds)
            else:
                await conn.execute("SELECT pg_sleep($1)", sleep_seconds)

    return await run_all(tasks, task)


# ---- core scenarios ---------------------------------------------------------------------

async def connect_now(params):
    async with await create_pool(params.get("pool")) as pool:
        now = await pool.fetchval("SELECT NOW()")  # pool.fetchval: acquire, query, release
    print(now)
    return {"now": now.isoformat()}  # an aware datetime (UTC)


async def select_rows(params):
    async with await create_pool(params.get("pool")) as pool:
        return {"rows": rows(await pool.fetch("SELECT id, name FROM users ORDER BY id"))}


async def param_query(params):
    # asyncpg binds on the server: $1 travels apart from the SQL, in binary.
    async with await create_pool(params.get("pool")) as pool:
        by_id = rows(await user_by_id(pool, params["id"]))
        by_name = [rows(await pool.fetch("SELECT id, name FROM users WHERE name = $1 ORDER BY id", name))
                   for name in params["names"]]
    return {"by_id": by_id, "by_name": by_name}


async def active_users(params):
    async with await create_pool(params.get("pool")) as pool:
        return {"rows": rows(await pool.fetch("SELECT id, name FROM users WHERE active ORDER BY id"))}


async def related_rows(params):
    # Every active user, then all their holdings in one more query (= ANY($1)): two statements
    # however many users, where a query per user would be an N+1.
    async with await create_pool(params.get("pool")) as pool, pool.acquire() as conn:
        users = rows(await conn.fetch("SELECT id, name FROM users WHERE active ORDER BY id"))
        held = await conn.fetch("SELECT user_id, symbol, shares FROM holdings WHERE user_id = ANY($1) ORDER BY id",
                                [u["id"] for u in users])
    return {"users": [{**u, "holdings": [{"symbol": h["symbol"], "shares": h["shares"]}
                                         for h in held if h["user_id"] == u["id"]]} for u in users]}


INSERT_USER = "INSERT INTO users (id, name, active) VALUES ($1, $2, $3)"


class Rollback(Exception):
    """Raised to leave a transaction block rolled back."""


async def transaction(params):
    # One acquired connection; conn.transaction() is BEGIN ... COMMIT, or ROLLBACK when its
    # block raises.
    prefix = params["name_prefix"]

    async def insert(conn, key):
        await conn.execute(INSERT_USER, params[key], f"{prefix} {params[key]}", True)

    async with await create_pool(params.get("pool")) as pool, pool.acquire() as conn:
        async with conn.transaction():
            await insert(conn, "committed_id")
        try:
            async with conn.transaction():
                await insert(conn, "rolled_back_id")
                raise Rollback()
        except Rollback:
            pass
        failed_sqlstate = None
        try:
            async with conn.transaction():
                await insert(conn, "failed_id")
                await insert(conn, "duplicate_id")
        except asyncpg.UniqueViolationError as e:  # rolled back: failed_id goes with it
            failed_sqlstate = e.sqlstate
            print(f"expected failure: {e.sqlstate} {e}")
        visible = [r["id"] for r in await conn.fetch("SELECT id FROM users WHERE id >= 1000 ORDER BY id")]
    return {"visible": visible, "failed_sqlstate": failed_sqlstate}


async def error_sqlstate(params):
    async with await create_pool(params.get("pool")) as pool:
        sqlstates = {}
        for key, query, args in [
            ("unique_violation", INSERT_USER,
             (params["duplicate_id"], f"duplicate {params['duplicate_id']}", True)),
            ("syntax_error", params["bad_sql"], ()),
        ]:
            try:
                await pool.execute(query, *args)
                sqlstates[key] = None
            except asyncpg.PostgresError as e:
                sqlstates[key] = e.sqlstate
                print(f"expected failure: {e.sqlstate} {e}")
        return {**sqlstates, "after": await pool.fetchval("SELECT 1")}


async def types(params):
    v = params["values"]
    native = (
        int(v["int8"]),  # a Python int: no precision lost
        decimal.Decimal(v["numeric"]),
        v["text"],
        v["bool"],
        datetime.datetime.fromisoformat(v["timestamptz"]),  # aware (the "Z" is UTC)
        datetime.date.fromisoformat(v["date"]),
        bytes.fromhex(v["bytea"]),
        json.dumps(v["jsonb"]),  # asyncpg sends and returns json/jsonb as text by default
        v["int_array"],
        v["null"],
    )
    async with await create_pool(params.get("pool")) as pool:
        probe_id = await pool.fetchval(
            "INSERT INTO type_probe (i8, num, txt, flag, ts, d, bin, doc, arr, nothing)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id", *native)
        r = await pool.fetchrow(
            "SELECT i8, num, txt, flag, ts, d, bin, doc, arr, nothing FROM type_probe WHERE id = $1", probe_id)
    # What asyncpg gives back: int, Decimal, str, bool, aware datetime (UTC), date, bytes,
    # JSON text, list, None.
    return {"values": {
        "int8": str(r["i8"]),
        "numeric": str(r["num"]),
        "text": r["txt"],
        "bool": r["flag"],
        "timestamptz": r["ts"].astimezone(datetime.timezone.utc).isoformat(),
        "date": r["d"].isoformat(),
        "bytea": bytes(r["bin"]).hex(),
        "jsonb": json.loads(r["doc"]),
        "int_array": list(r["arr"]),
        "null": r["nothing"],
    }}


# ---- pool scenarios ---------------------------------------------------------------------

async def pool_bounded(params):
    async with await create_pool(params.get("pool")) as pool:
        start = time.monotonic()
        summary = await burst(pool, params["concurrency"], params["sleep_seconds"], acquire_timeout(params.get("pool")))
        summary["elapsed_ms"] = round((time.monotonic() - start) * 1000)
    return summary


async def pool_reuse(params):
    async with await create_pool(params.get("pool")) as pool:
        return {"pids": [await pool.fetchval("SELECT pg_backend_pid()") for _ in range(params["queries"])]}


async def pool_release(params):
    pool = await create_pool(params.get("pool"))
    summary = await burst(pool, params["concurrency"], params.get("sleep_seconds", 0),
                          acquire_timeout(params.get("pool")), in_transaction=True)
    await checkpoint("after_work")
    await pool.close()  # waits for every connection to be released, then closes them
    await checkpoint("after_close")
    return summary


async def pool_release_on_error(params):
    # A statement fails inside the transaction of an acquired connection: the transaction block
    # rolls it back, and leaving the acquire block gives the connection back (reset).
    prefix, failed_sqlstate, pid = params["name_prefix"], None, None
    pool = await create_pool(params.get("pool"))
    try:
        async with pool.acquire(timeout=acquire_timeout(params.get("pool"))) as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            async with conn.transaction():
                for key in ("row_id", "duplicate_id"):  # the second is taken: 23505
                    await conn.execute(INSERT_USER, params[key], f"{prefix} {params[key]}", True)
    except asyncpg.UniqueViolationError as e:
        failed_sqlstate = e.sqlstate
        print(f"expected failure: {e.sqlstate} {e}")
    await checkpoint("after_error")
    after = await pool.fetchval("SELECT 1")
    await pool.close()
    await checkpoint("after_close")
    return {"pid": pid, "failed_sqlstate": failed_sqlstate, "after": after}


async def pool_acquire_timeout(params):
    timeout = acquire_timeout(params.get("pool"))
    async with await create_pool(params.get("pool")) as pool, pool.acquire(timeout=timeout) as held:
        await held.execute("SELECT 1")
        start = time.monotonic()
        try:
            async with pool.acquire(timeout=timeout):
                error = None
        except asyncio.TimeoutError as e:  # acquire(timeout=...) gave up: the pool had none free
            error = {"kind": "pool_timeout", "type": type(e).__name__, "message": str(e) or "acquire timed out"}
        except Exception as e:
            error = {"kind": "other", "type": type(e).__name__, "message": str(e)}
        elapsed_ms = round((time.monotonic() - start) * 1000)
    return {"error": error, "elapsed_ms": elapsed_ms}


async def pool_idle_timeout(params):
    settings = params.get("pool")
    async with await create_pool(settings) as pool:
        summary = await burst(pool, params["burst"], params["sleep_seconds"], acquire_timeout(settings))
        await checkpoint("after_burst")  # the harness watches idle connections close meanwhile
        summary["idle_timeout_ms"] = settings.get("idle_timeout_ms", 30000)
    return summary


async def pool_recovery(params):
    # A connection whose backend died is seen as closed (the event loop runs through the
    # checkpoint): acquire() reconnects it before lending it.
    timeout = acquire_timeout(params.get("pool"))
    async with await create_pool(params.get("pool")) as pool:
        first = await burst(pool, params["concurrency"], params["sleep_seconds"], timeout)
        await checkpoint("between_bursts")
        second = await burst(pool, params["concurrency"], params["sleep_seconds"], timeout)
    return {"first": first, "second": second}


async def fresh_connection():
    """One connection outside any pool, with the sample's settings (asyncpg.connect)."""
    return await asyncpg.connect(
        host=os.environ.get("PGHOST", "localhost"), port=int(os.environ.get("PGPORT", "5432")),
        database=os.environ.get("PGDATABASE", "mydb"), user=os.environ.get("PGUSER", "postgres"),
        password=os.environ.get("PGPASSWORD", "secret"), ssl=os.environ.get("PGSSLMODE", "verify-full"),
        server_settings={"application_name": os.environ.get("PGAPPNAME", "asyncpg-sample")},
        statement_cache_size=STATEMENT_CACHE_SIZE)


async def no_pool_exhaustion(params):
    requests, sleep_seconds = params["requests"], params["sleep_seconds"]
    pool = await create_pool(params.get("pool"))
    pooled = await burst(pool, requests, sleep_seconds, acquire_timeout(params.get("pool")))
    await pool.close()
    await checkpoint("after_pooled")  # the pool is closed: the harness counts its connections

    async def unpooled_request():  # the pitfall the page warns about: a connection per request
        conn = await fresh_connection()
        try:
            await conn.execute("SELECT pg_sleep($1)", sleep_seconds)
        finally:
            await conn.close()

    return {"pooled": pooled, "unpooled": await run_all(requests, unpooled_request)}


async def story_pool_sizing(params):
    """The same burst through a pool of each size in params.sizes: every request at once, half
    CPU-bound on the server, half waiting. Per request: the wait for a pooled connection and
    the whole latency."""
    results = []
    for size in params["sizes"]:
        await checkpoint(f"before_{size}")
        async with await create_pool({"max": size}) as pool:
            async def request(i):
                start = time.perf_counter()
                async with pool.acquire(timeout=120) as conn:  # a pooled connection, or a wait for one
                    acquired = time.perf_counter()
                    if i % 2:
                        await conn.execute("SELECT pg_sleep($1)", params["sleep_seconds"])
                    else:
                        await conn.fetchval("SELECT sum(i) FROM generate_series(1, $1) AS i", params["cpu_rows"])
                return (acquired - start) * 1000, (time.perf_counter() - start) * 1000

            start = time.perf_counter()
            timings = await asyncio.gather(*(request(i) for i in range(params["requests"])))
            elapsed_ms = (time.perf_counter() - start) * 1000
        await checkpoint(f"after_{size}")
        results.append({"size": size, "elapsed_ms": round(elapsed_ms, 3),
                        "wait_ms": [round(w, 3) for w, _ in timings],
                        "latency_ms": [round(t, 3) for _, t in timings]})
    return {"sizes": results}


async def story_pool_exhaustion(params):
    """The page's first story: params["services"] services, each with a pool of its own (max
    params["pool"]["max"]), under one steady load. Every wave_interval_ms each service gets
    wave_size requests at once; long_per_wave of them hold their connection for a long query
    (work on the server: a sum over long_rows rows, short_rows for the rest). A request whose
    connection the server refuses (53300) is retried as a service would (asyncpg's pool has no
    retry of its own): params["retry"]'s attempts, backing off backoff_ms, doubling, at most
    backoff_max_ms; its latency runs from its first attempt. Refused at its last attempt, it is
    counted, not raised."""
    settings, retry = params["pool"], params["retry"]
    pools = [await create_pool(settings) for _ in range(params["services"])]
    results = [{"succeeded": 0, "refused": 0, "failed": 0, "retries": 0, "errors": [], "wait_ms": [],
                "latency_ms": []} for _ in pools]

    async def request(service, rows):
        result, start = results[service], time.perf_counter()
        for attempt in range(1, retry["attempts"] + 1):
            try:
                async with pools[service].acquire(timeout=acquire_timeout(settings)) as conn:
                    acquired = time.perf_counter()
                    await conn.execute("SELECT sum(i) FROM generate_series(1, $1::int) AS i", rows)
                break
            except Exception as e:  # each failure is data: refused (53300) or failed
                code = sqlstate(e)
                if code == "53300" and attempt < retry["attempts"]:   # too many connections for role
                    result["retries"] += 1
                    await asyncio.sleep(min(retry["backoff_ms"] * 2 ** (attempt - 1), retry["backoff_max_ms"]) / 1000)
                    continue
                result["refused" if code == "53300" else "failed"] += 1
                if code not in result["errors"]:
                    result["errors"].append(code)
                return
        result["succeeded"] += 1
        result["wait_ms"].append(round((acquired - start) * 1000, 3))
        result["latency_ms"].append(round((time.perf_counter() - start) * 1000, 3))

    started = time.perf_counter()
    requests = []
    try:
        for wave in range(params["waves"]):
            # A steady pace, whatever the last wave is still doing.
            await asyncio.sleep(max(0.0, started + wave * params["wave_interval_ms"] / 1000 - time.perf_counter()))
            for service in range(params["services"]):
                for i in range(params["wave_size"]):
                    long = i < params["long_per_wave"]
                    requests.append(asyncio.create_task(
                        request(service, params["long_rows"] if long else params["short_rows"])))
        await asyncio.gather(*requests)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
    finally:
        await asyncio.gather(*(pool.close() for pool in pools))
    return {"services": results, "elapsed_ms": elapsed_ms}


async def ledger_stream(params):
    """The page's cutover story, seen from a service: `writers` loops, each committing a short
    transaction (a ledger row with an id it made) every interval_ms. An id counts as
    acknowledged only once COMMIT returned; a failure is reported with its error. It knows
    nothing of PgBouncer's PAUSE/RESUME: the harness does that at checkpoint `streaming`."""
    acknowledged, failed, latency_ms = [], [], []
    streaming = True
    settings = params.get("pool")

    async def writer(pool, w):
        n = 0
        while streaming:
            n += 1
            row_id = w * 1000000 + n
            start, committed = time.perf_counter(), False
            try:
                async with pool.acquire(timeout=acquire_timeout(settings)) as conn:
                    async with conn.transaction():  # BEGIN ... COMMIT
                        await conn.execute("INSERT INTO ledger (id, writer) VALUES ($1, $2)", row_id, w)
                    committed = True  # COMMIT returned; releasing (the pool's reset) may still fail
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, asyncio.TimeoutError) as e:
                print(f"transaction {row_id} {'committed, then its release' if committed else ''} failed: {e!r}")
                if not committed:
                    failed.append({"id": row_id, "sqlstate": getattr(e, "sqlstate", None), "message": str(e).strip()})
            if committed:
                acknowledged.append(row_id)
            latency_ms.append([row_id, round((time.perf_counter() - start) * 1000, 3)])  # acquire to COMMIT
            await asyncio.sleep(params["interval_ms"] / 1000)

    async with await create_pool(settings) as pool:
        writers = [asyncio.create_task(writer(pool, w)) for w in range(1, params["writers"] + 1)]
        await asyncio.sleep(params["stream_before_seconds"])
        await checkpoint("streaming")
        await asyncio.sleep(params["stream_after_seconds"])
        streaming = False
        await asyncio.gather(*writers)
    return {"acknowledged": acknowledged, "failed": failed, "latency_ms": latency_ms}


# ---- lifecycle scenarios ----------------------------------------------------------------

def connect_error(e):
    """A failed connection as data. The server's refusals carry a SQLSTATE in asyncpg; a
    certificate that Python's ssl module refused is an SSLCertVerificationError."""
    code = getattr(e, "sqlstate", None)
    if isinstance(e, ssl.SSLCertVerificationError):
        kind = "certificate"
    elif code == "28000":
        kind = "refused"  # pg_hba.conf rejected the connection
    elif code == "28P01":
        kind = "auth"
    else:
        kind = "other"
    return {"kind": kind, "type": f"{type(e).__module__}.{type(e).__name__}", "sqlstate": code, "message": str(e)}


async def failed_connect(params):
    """create_pool opens its min_size connections at once: a connection the driver or the server
    refuses makes it raise that error, which is the result."""
    start = time.monotonic()
    try:
        async with await create_pool(params.get("pool")) as pool:
            await pool.fetchval("SELECT 1")
        error = {"kind": "none", "type": "none", "sqlstate": None, "message": "connected"}
    except (asyncpg.PostgresError, ssl.SSLError, OSError) as e:  # SSLCertVerificationError is an OSError too
        print(f"expected failure: {e!r}")
        error = connect_error(e)
    return {"error": error, "elapsed_ms": round((time.monotonic() - start) * 1000, 2)}


async def tls_verify_full(params):
    async with await create_pool(params.get("pool")) as pool, pool.acquire() as conn:
        row = await conn.fetchrow("SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        await checkpoint("connected")  # the harness reads pg_stat_ssl while this connection is open
    return {"ssl": row["ssl"], "version": row["version"], "cipher": row["cipher"]}


async def connect_latency(params):
    """Fresh connections timed one by one (asyncpg.connect, outside the pool), then queries
    through the pool. Plain or TLS is the environment's choice (PGSSLMODE)."""
    connect_ms = []
    for _ in range(params["connections"]):
        start = time.perf_counter()
        conn = await fresh_connection()  # returns once TLS (if any) and SCRAM are done
        connect_ms.append(round((time.perf_counter() - start) * 1000, 3))
        await conn.close()
    async with await create_pool(params.get("pool")) as pool:
        await user_by_id(pool)  # warm-up
        query_ms = []
        for _ in range(params["queries"]):
            start = time.perf_counter()
            await pool.fetchval("SELECT 1")  # acquire, query, release
            query_ms.append(round((time.perf_counter() - start) * 1000, 3))
    return {"connect_ms": connect_ms, "query_ms": query_ms, "pooled": True}


# ---- session state, for the PgBouncer matrix (docs/pgbouncer.md) -----------------------------
# A statement prepared by name and a session setting live in one server session, which
# transaction pooling does not keep. Each statement outside a transaction block is its own
# transaction (asyncpg is in autocommit unless a transaction() is open).

async def prepared_statement_reuse(params):
    # conn.prepare(name=...) makes a protocol-level statement of that name (without one asyncpg
    # names it itself, __asyncpg_stmt_N__) and runs it by that name each time. Named, it stays a
    # named statement with statement_cache_size=0 too.
    async with await create_pool(params.get("pool")) as pool, pool.acquire() as conn:
        statement = await conn.prepare("SELECT id, name FROM users WHERE id = $1", name=params["name"])
        results = []
        for id_ in params["ids"]:
            results.append(rows(await statement.fetch(id_)))
            if len(results) == 1:
                await checkpoint("prepared")  # the harness may replace server connections here
    return {"results": results}


async def session_set(params):
    # set_config(name, value, false) is SET for the session, with the value bound. Client 1 sets
    # it, client 2 reads it, client 1 reads it back; at the checkpoints the harness may replace
    # server connections.
    read = "SELECT current_setting($1, true)"
    async with await create_pool(params.get("pool")) as pool, pool.acquire() as first, pool.acquire() as second:
        await checkpoint("connected")
        await first.fetchval("SELECT set_config($1, $2, false)", params["setting"], params["value"])
        other_client_read = await second.fetchval(read, params["setting"])
        await checkpoint("before_read_back")
        return {"read_back": await first.fetchval(read, params["setting"]), "other_client_read": other_client_read}


async def advisory_lock(params):
    # A session advisory lock: client 1 takes it, client 2 tries it, client 1 unlocks it.
    async with await create_pool(params.get("pool")) as pool, pool.acquire() as first, pool.acquire() as second:
        await checkpoint("connected")
        await first.fetchval("SELECT pg_advisory_lock($1)", params["key"])
        other_client_got_it = await second.fetchval("SELECT pg_try_advisory_lock($1)", params["key"])
        await checkpoint("before_unlock")
        unlocked = await first.fetchval("SELECT pg_advisory_unlock($1)", params["key"])
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
    data = asyncio.run(SCENARIOS[scenario](params))
    print(json.dumps({"type": "result", "scenario": scenario, "data": data}), file=HARNESS_OUT, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
