"""The page's "SQLAlchemy (ORM)" sample, made runnable for the conformance harness.

The harness passes the connection in the standard libpq variables (PGHOST, PGPORT, ...), the
scenario in HARNESS_SCENARIO and its parameters as JSON in HARNESS_PARAMS. Standard output
carries exactly one JSON result line; what the sample prints goes to standard error.
The driver is psycopg2 (the plain postgresql:// URL); libpq itself reads PGSSLMODE and
PGSSLROOTCERT, so TLS settings apply without code here.
"""
import datetime
import decimal
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import (ARRAY, BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Integer,
                        LargeBinary, Numeric, Table, Text, create_engine, exc, insert,
                        select, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload
from sqlalchemy.pool import NullPool

# stdout carries the harness's JSON lines only: what the sample prints goes to stderr.
HARNESS_OUT, sys.stdout = sys.stdout, sys.stderr


class Base(DeclarativeBase):
    pass


# [HELPER User] the ORM's mapped class of the `users` table (id, name, active) and its holdings
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    active: Mapped[bool]
    # Lazy by default: user.holdings runs its own SELECT the first time it is read.
    holdings: Mapped[list["Holding"]] = relationship(order_by="Holding.id")


class Holding(Base):
    __tablename__ = "holdings"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    symbol: Mapped[str]
    shares: Mapped[int]


# One row per write of the cutover story, with an id the writer made.
class Ledger(Base):
    __tablename__ = "ledger"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    writer: Mapped[int]


# Core table for the `types` scenario: the column types tell SQLAlchemy how to bind and read.
type_probe = Table(
    "type_probe", Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("i8", BigInteger), Column("num", Numeric(12, 2)), Column("txt", Text),
    Column("flag", Boolean), Column("ts", DateTime(timezone=True)), Column("d", Date),
    Column("bin", LargeBinary), Column("doc", JSONB), Column("arr", ARRAY(Integer)),
    Column("nothing", Text),
)


# [HELPER database_url] the page's postgresql://postgres:secret@localhost/mydb with each PG* variable that is set (a sqlalchemy URL)
def database_url():
    """The page's "postgresql://postgres:secret@localhost/mydb", with the PG* variables where
    they are set (quoted safely)."""
    return URL.create(
        "postgresql",  # no +driver: the default driver, psycopg2 in SQLAlchemy 2.0 (2.1: psycopg 3)
        username=os.environ.get("PGUSER", "postgres"),
        password=os.environ.get("PGPASSWORD", "secret"),
        host=os.environ.get("PGHOST", "localhost"),
        port=int(os.environ.get("PGPORT", "5432")),
        database=os.environ.get("PGDATABASE", "mydb"),
        query={"application_name": os.environ.get("PGAPPNAME", "")},
    )


def make_engine(pool=None, pre_ping=False):
    """create_engine with the page's pool_size=5, max_overflow=10, or the scenario's pool.

    params.pool.max bounds the total: QueuePool opens at most pool_size + max_overflow
    connections, so split max the page's way (a kept core plus overflow that closes when
    returned).
    """
    pool = pool or {}
    pool_size, max_overflow = 5, 10
    if "max" in pool:
        pool_size = max(1, pool["max"] // 2)
        max_overflow = pool["max"] - pool_size
    options = {}
    if "acquire_timeout_ms" in pool:
        options["pool_timeout"] = pool["acquire_timeout_ms"] / 1000.0
    if pre_ping:  # the recovery scenarios
        # A checkout first runs a ping; a dead connection is replaced (and every older pooled
        # one invalidated). Without it the first query on a terminated backend is lost.
        options["pool_pre_ping"] = True
    return new_engine(pool_size, max_overflow, **options)


# The page's sample, which every scenario runs through: an engine with the page's pool settings
# as the defaults (make_engine maps a scenario's pool onto them) and the ORM query for the
# active users.
# [START python_sqlalchemy]
def new_engine(pool_size=5, max_overflow=10, **options):
    return create_engine(
        database_url(),  # "postgresql://postgres:secret@localhost/mydb", from PG* where set
        pool_size=pool_size,
        max_overflow=max_overflow,
        **options,
    )


def list_active_users(engine):
    with Session(engine) as session:
        users = session.query(User).filter(
            User.active == True  # noqa: E712 -- `==` builds SQL; `is True` would not
        ).order_by(User.id).all()
    for user in users:
        print(f"{user.id}: {user.name}")
    return users
# [END python_sqlalchemy]


def as_rows(users):
    return [{"id": u.id, "name": u.name} for u in users]


def sqlstate(error):
    """The SQLSTATE behind a SQLAlchemy error (its .orig is the psycopg2 exception).

    psycopg2 has no SQLSTATE for errors raised while connecting (libpq reports those as text
    only: pgcode is None), so the server's connection-refusal messages are mapped here.
    """
    orig = getattr(error, "orig", error)
    code = getattr(orig, "pgcode", None)
    if code:
        return code
    message = str(orig)
    for fragment, code in CONNECT_ERRORS.items():
        if fragment in message:
            return code
    return message.strip()


# The server's refusals at connect time (English server messages), checked with psycopg2
# 2.9.13: "FATAL:  too many connections for role ..." arrives with pgcode None.
CONNECT_ERRORS = {
    "too many connections for role": "53300",
    "too many connections for database": "53300",
    "sorry, too many clients already": "53300",
    "remaining connection slots are reserved": "53300",
    "the database system is starting up": "57P03",
    "the database system is shutting down": "57P03",
}


def checkpoint(name):
    print(json.dumps({"type": "checkpoint", "name": name}), file=HARNESS_OUT, flush=True)
    sys.stdin.readline()  # the harness answers {"type": "continue", ...} when it is done


def burst(engine, tasks, sleep_seconds, in_transaction=False):
    """`tasks` queries at once, one thread each; returns the burst summary."""
    def task(_):
        # engine.begin() wraps the work in BEGIN ... COMMIT; engine.connect() autobegins
        # and the pool rolls back on return. Both give the connection back on exit.
        with (engine.begin() if in_transaction else engine.connect()) as conn:
            conn.execute(text("SELECT pg_sleep(:s)"), {"s": sleep_seconds})

    succeeded, errors = 0, []
    with ThreadPoolExecutor(max_workers=tasks) as executor:
        futures = [executor.submit(task, i) for i in range(tasks)]
        for future in futures:
            try:
                future.result()
                succeeded += 1
            except Exception as e:  # each failure is data in the summary
                errors.append(sqlstate(e))
    return {"succeeded": succeeded, "failed": len(errors), "errors": errors}


# ---- core scenarios ---------------------------------------------------------------------

def connect_now(params):
    engine = make_engine()
    with engine.connect() as conn:
        now = conn.execute(text("SELECT NOW()")).scalar_one()
    engine.dispose()
    print(now, file=sys.stderr)
    return {"now": now.isoformat()}


def select_rows(params):
    engine = make_engine()
    with Session(engine) as session:
        users = session.query(User).order_by(User.id).all()
        data = {"rows": as_rows(users)}
    engine.dispose()
    return data


def param_query(params):
    # The ORM sends each compared value as a bound parameter, never as SQL text.
    engine = make_engine()
    with Session(engine) as session:
        by_id = as_rows(session.query(User).filter(User.id == params["id"]).all())
        by_name = [as_rows(session.query(User).filter(User.name == name).order_by(User.id).all())
                   for name in params["names"]]
    engine.dispose()
    return {"by_id": by_id, "by_name": by_name}


def active_users(params):
    engine = make_engine()
    users = list_active_users(engine)
    engine.dispose()
    return {"rows": as_rows(users)}


def with_holdings(users):
    return [{"id": u.id, "name": u.name,
             "holdings": [{"symbol": h.symbol, "shares": h.shares} for h in u.holdings]} for u in users]


def active_users_with_holdings(session, eager=True):
    """The page's query for the active users, with their holdings. Eager: selectinload sends the
    users, then every user's holdings in one more SELECT (holdings.user_id IN (...)). Not eager:
    reading user.holdings lazily sends one SELECT per user, the N+1 the page's third story tells."""
    query = session.query(User)
    if eager:
        query = query.options(selectinload(User.holdings))
    users = query.filter(User.active == True).order_by(User.id).all()  # noqa: E712 -- builds SQL
    return with_holdings(users)


def related_rows(params):
    engine = make_engine()
    with Session(engine) as session:
        data = {"users": active_users_with_holdings(session)}
    engine.dispose()
    return data


def story_orm_n_plus_one(params):
    """The same question twice on the same data: lazily (N+1 statements), then eagerly (2). The
    harness counts each way's statements between the checkpoints."""
    engine = make_engine()
    with engine.begin() as conn:  # more users, in two statements: the story needs N to matter
        conn.execute(text("INSERT INTO users (id, name, active) "
                          "SELECT 1000 + i, 'Zoë O''Brien ' || i, true FROM generate_series(1, :n) AS i"),
                     {"n": params["extra_users"]})
        conn.execute(text("INSERT INTO holdings (id, user_id, symbol, shares) "
                          "SELECT 1000 + i * :k + j, 1000 + i, 'SYM ' || j || ' 🐘', j "
                          "FROM generate_series(1, :n) AS i, generate_series(1, :k) AS j WHERE i % 5 <> 0"),
                     {"n": params["extra_users"], "k": params["holdings_per_user"]})
    answers, elapsed_ms = {}, {}
    for way, eager in (("naive", False), ("eager", True)):
        checkpoint(f"before_{way}")
        start = time.perf_counter()
        with Session(engine) as session:
            answers[way] = active_users_with_holdings(session, eager=eager)
        elapsed_ms[way] = round((time.perf_counter() - start) * 1000, 3)
    checkpoint("after_eager")
    engine.dispose()
    return {"users": len(answers["naive"]), "naive": answers["naive"], "eager": answers["eager"],
            "naive_ms": elapsed_ms["naive"], "eager_ms": elapsed_ms["eager"]}


def story_pool_sizing(params):
    """The same burst through a pool of each size in params.sizes: every request at once, half
    CPU-bound on the server, half waiting. Per request: the wait for a pooled connection and
    the whole latency."""
    cpu = text("SELECT sum(i) FROM generate_series(1, :n) AS i")
    sleep = text("SELECT pg_sleep(:s)")
    results = []
    for size in params["sizes"]:
        engine = make_engine({"max": size, "acquire_timeout_ms": 120000})

        def request(i):
            start = time.perf_counter()
            with engine.connect() as conn:  # checks a connection out of the pool (or waits)
                acquired = time.perf_counter()
                if i % 2:
                    conn.execute(sleep, {"s": params["sleep_seconds"]})
                else:
                    conn.execute(cpu, {"n": params["cpu_rows"]})
            return (acquired - start) * 1000, (time.perf_counter() - start) * 1000

        checkpoint(f"before_{size}")
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=params["requests"]) as executor:
            timings = list(executor.map(request, range(params["requests"])))
        elapsed_ms = (time.perf_counter() - start) * 1000
        engine.dispose()
        checkpoint(f"after_{size}")
        results.append({"size": size, "elapsed_ms": round(elapsed_ms, 3),
                        "wait_ms": [round(w, 3) for w, _ in timings],
                        "latency_ms": [round(t, 3) for _, t in timings]})
    return {"sizes": results}


def story_pool_exhaustion(params):
    """The page's first story: params["services"] services, each with an engine (a pool) of its
    own, max params["pool"]["max"], under one steady load. Every wave_interval_ms each service
    gets wave_size requests at once; long_per_wave of them hold their connection for a long
    query (work on the server: a sum over long_rows rows, short_rows for the rest). A request
    whose connection the server refuses (53300) is retried as a service would (SQLAlchemy's pool
    has no retry of its own): params["retry"]'s attempts, backing off backoff_ms, doubling, at
    most backoff_max_ms; its latency runs from its first attempt. Refused at its last attempt,
    it is counted, not raised."""
    engines = [make_engine(params["pool"]) for _ in range(params["services"])]
    results = [{"succeeded": 0, "refused": 0, "failed": 0, "retries": 0, "errors": [], "wait_ms": [],
                "latency_ms": []} for _ in engines]
    counting = threading.Lock()
    query = text("SELECT sum(i) FROM generate_series(1, :n) AS i")
    retry = params["retry"]

    def request(service, rows):
        result, start = results[service], time.perf_counter()
        for attempt in range(1, retry["attempts"] + 1):
            try:
                with engines[service].connect() as conn:  # a pooled connection, or a new one, or a wait
                    acquired = time.perf_counter()
                    conn.execute(query, {"n": rows})
                break
            except Exception as e:  # each failure is data: refused (53300), retried, or failed
                code = sqlstate(e)
                if code == "53300" and attempt < retry["attempts"]:
                    with counting:
                        result["retries"] += 1
                    time.sleep(min(retry["backoff_ms"] * 2 ** (attempt - 1), retry["backoff_max_ms"]) / 1000)
                    continue
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
    with ThreadPoolExecutor(max_workers=2 * params["services"] * params["wave_size"]) as executor:
        for wave in range(params["waves"]):
            # A steady pace, whatever the last wave is still doing.
            time.sleep(max(0.0, started + wave * params["wave_interval_ms"] / 1000 - time.perf_counter()))
            for service in range(params["services"]):
                for i in range(params["wave_size"]):
                    long = i < params["long_per_wave"]
                    executor.submit(request, service, params["long_rows"] if long else params["short_rows"])
    elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
    for engine in engines:
        engine.dispose()
    return {"services": results, "elapsed_ms": elapsed_ms}
def ledger_stream(params):
    """The page's cutover story, seen from a service: `writers` threads, each committing a
    short transaction (a ledger row with an id it made) every interval_ms. An id counts as
    acknowledged only once COMMIT returned; a failure is reported with its error. It knows
    nothing of PgBouncer's PAUSE/RESUME: the harness does that at checkpoint `streaming`."""
    engine = make_engine(params.get("pool"))
    acknowledged, failed, latency_ms = [], [], []
    lock, streaming = threading.Lock(), threading.Event()
    streaming.set()

    def writer(w):
        n = 0
        while streaming.is_set():
            n += 1
            row_id = w * 1000000 + n
            start = time.perf_counter()
            try:
                with Session(engine) as session, session.begin():  # BEGIN ... COMMIT on exit
                    session.add(Ledger(id=row_id, writer=w))
                outcome = (acknowledged, row_id)
            except exc.DBAPIError as e:
                print(f"transaction {row_id} failed: {e.orig}")
                outcome = (failed, {"id": row_id, "sqlstate": getattr(e.orig, "pgcode", None),
                                    "message": str(e.orig).strip()})
            with lock:
                outcome[0].append(outcome[1])
                latency_ms.append([row_id, round((time.perf_counter() - start) * 1000, 3)])  # checkout to COMMIT
            time.sleep(params["interval_ms"] / 1000)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(1, params["writers"] + 1)]
    for thread in threads:
        thread.start()
    time.sleep(params["stream_before_seconds"])
    checkpoint("streaming")
    time.sleep(params["stream_after_seconds"])
    streaming.clear()
    for thread in threads:
        thread.join()
    engine.dispose()
    return {"acknowledged": acknowledged, "failed": failed, "latency_ms": latency_ms}


def transaction(params):
    prefix = params["name_prefix"]

    def user(key):
        return User(id=params[key], name=f"{prefix} {params[key]}", active=True)

    engine = make_engine()
    with Session(engine) as session:
        session.add(user("committed_id"))
        session.commit()

        session.add(user("rolled_back_id"))
        session.flush()  # send the INSERT, so the rollback undoes a real row
        session.rollback()

        failed_sqlstate = None
        try:
            session.add(user("failed_id"))
            session.flush()
            session.add(user("duplicate_id"))
            session.flush()
            session.commit()
        except exc.IntegrityError as e:
            failed_sqlstate = e.orig.pgcode
            print(f"expected failure: {e.orig.pgcode} {e.orig.pgerror}", file=sys.stderr)
            session.rollback()  # the whole transaction goes, failed_id with it

        visible = [id_ for (id_,) in
                   session.query(User.id).filter(User.id >= 1000).order_by(User.id)]
    engine.dispose()
    return {"visible": visible, "failed_sqlstate": failed_sqlstate}


def error_sqlstate(params):
    engine = make_engine()
    with Session(engine) as session:
        try:
            session.add(User(id=params["duplicate_id"], name=f"duplicate {params['duplicate_id']}",
                             active=True))
            session.commit()
            unique_violation = None
        except exc.IntegrityError as e:
            unique_violation = e.orig.pgcode
            print(f"expected failure: {e.orig.pgcode} {e.orig.pgerror}", file=sys.stderr)
            session.rollback()  # a failed flush leaves the session unusable until rollback
        try:
            session.execute(text(params["bad_sql"]))
            syntax_error = None
        except exc.ProgrammingError as e:
            syntax_error = e.orig.pgcode
            print(f"expected failure: {e.orig.pgcode} {e.orig.pgerror}", file=sys.stderr)
            session.rollback()
        after = session.execute(text("SELECT 1")).scalar_one()
    engine.dispose()
    return {"unique_violation": unique_violation, "syntax_error": syntax_error, "after": after}


def types(params):
    v = params["values"]
    engine = make_engine()
    with engine.begin() as conn:
        probe_id = conn.execute(insert(type_probe).values(
            i8=int(v["int8"]),
            num=decimal.Decimal(v["numeric"]),
            txt=v["text"],
            flag=v["bool"],
            ts=datetime.datetime.fromisoformat(v["timestamptz"]),  # aware (the "Z" is UTC)
            d=datetime.date.fromisoformat(v["date"]),
            bin=bytes.fromhex(v["bytea"]),
            doc=v["jsonb"],
            arr=v["int_array"],
            nothing=v["null"],
        ).returning(type_probe.c.id)).scalar_one()
    with engine.connect() as conn:
        r = conn.execute(select(type_probe).where(type_probe.c.id == probe_id)).one()
    engine.dispose()
    return {"values": {
        "int8": str(r.i8),
        "numeric": str(r.num),  # Decimal
        "text": r.txt,
        "bool": r.flag,
        "timestamptz": r.ts.isoformat(),  # aware datetime
        "date": r.d.isoformat(),
        "bytea": bytes(r.bin).hex(),
        "jsonb": r.doc,
        "int_array": r.arr,
        "null": r.nothing,
    }}


# ---- pool scenarios ---------------------------------------------------------------------

def pool_bounded(params):
    engine = make_engine(params.get("pool"))
    start = time.monotonic()
    summary = burst(engine, params["concurrency"], params["sleep_seconds"])
    summary["elapsed_ms"] = round((time.monotonic() - start) * 1000)
    engine.dispose()
    return summary


def pool_reuse(params):
    engine = make_engine(params.get("pool"))
    pids = []
    for _ in range(params["queries"]):
        with engine.connect() as conn:
            pids.append(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    engine.dispose()
    return {"pids": pids}


def pool_release(params):
    engine = make_engine(params.get("pool"))
    summary = burst(engine, params["concurrency"], params.get("sleep_seconds", 0),
                    in_transaction=True)
    checkpoint("after_work")
    engine.dispose()  # closes every pooled connection
    checkpoint("after_close")
    return summary


def pool_release_on_error(params):
    # A statement fails inside the transaction of a checked-out connection. Leaving the `with`
    # block returns the connection to the pool, which rolls it back (reset on return).
    engine = make_engine(params.get("pool"))
    prefix, failed_sqlstate, pid = params["name_prefix"], None, None
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            for key in ("row_id", "duplicate_id"):  # the second is taken: 23505
                conn.execute(insert(User).values(id=params[key], name=f"{prefix} {params[key]}",
                                                 active=True))
            conn.commit()
    except exc.IntegrityError as e:
        failed_sqlstate = e.orig.pgcode
        print(f"expected failure: {e.orig.pgcode} {e.orig.pgerror}", file=sys.stderr)
    checkpoint("after_error")
    with engine.connect() as conn:
        after = conn.execute(text("SELECT 1")).scalar_one()
    engine.dispose()
    checkpoint("after_close")
    return {"pid": pid, "failed_sqlstate": failed_sqlstate, "after": after}


def pool_acquire_timeout(params):
    engine = make_engine(params.get("pool"))
    with engine.connect() as held:
        held.execute(text("SELECT 1"))
        start = time.monotonic()
        try:
            with engine.connect():
                error = None
        except exc.TimeoutError as e:  # QueuePool's own "QueuePool limit ... timed out"
            error = {"kind": "pool_timeout", "type": type(e).__name__, "message": str(e)}
        except Exception as e:
            error = {"kind": "other", "type": type(e).__name__, "message": str(e)}
        elapsed_ms = round((time.monotonic() - start) * 1000)
    engine.dispose()
    return {"error": error, "elapsed_ms": elapsed_ms}


def pool_recovery(params):
    engine = make_engine(params.get("pool"), pre_ping=True)
    first = burst(engine, params["concurrency"], params["sleep_seconds"])
    checkpoint("between_bursts")
    second = burst(engine, params["concurrency"], params["sleep_seconds"])
    engine.dispose()
    return {"first": first, "second": second}


def no_pool_exhaustion(params):
    requests, sleep_seconds = params["requests"], params["sleep_seconds"]
    engine = make_engine(params.get("pool"))
    pooled = burst(engine, requests, sleep_seconds)
    engine.dispose()
    checkpoint("after_pooled")  # the pool is closed: the harness counts its connections
    # The same work without a pool: NullPool opens a connection per checkout and closes it.
    unpooled_engine = create_engine(database_url(), poolclass=NullPool)
    unpooled = burst(unpooled_engine, requests, sleep_seconds)
    unpooled_engine.dispose()
    return {"pooled": pooled, "unpooled": unpooled}


# ---- lifecycle scenarios ----------------------------------------------------------------

# psycopg2 (libpq) gives no SQLSTATE for a failed connect (pgcode is None): only the server's
# or OpenSSL's message, so the kind is read from the text.
CONNECT_ERROR_KINDS = {
    "certificate verify failed": "certificate",
    "does not match host name": "certificate",
    "pg_hba.conf": "refused",
    "password authentication failed": "auth",
}


def failed_connect(params):
    """Connect through the page's engine as the environment says; report the driver's error."""
    engine = make_engine()
    start = time.monotonic()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        error = {"kind": "none", "type": "none", "sqlstate": None, "message": "connected"}
    except exc.OperationalError as e:  # wraps the DBAPI error, which is e.orig
        message = str(e.orig).strip()
        print(f"expected failure: {message}", file=sys.stderr)
        kind = next((k for fragment, k in CONNECT_ERROR_KINDS.items() if fragment in message), "other")
        error = {"kind": kind, "type": f"{type(e).__module__}.{type(e).__name__}",
                 "sqlstate": e.orig.pgcode, "message": message}
    elapsed_ms = round((time.monotonic() - start) * 1000, 2)
    engine.dispose()  # close what the pool holds, so the process exits right after its result
    return {"error": error, "elapsed_ms": elapsed_ms}


def tls_verify_full(params):
    engine = make_engine()  # libpq verifies the server against PGSSLROOTCERT (PGSSLMODE=verify-full)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).one()
        checkpoint("connected")  # the harness reads pg_stat_ssl while this connection is open
    engine.dispose()
    return {"ssl": row.ssl, "version": row.version, "cipher": row.cipher}


def connect_latency(params):
    """Fresh connections timed one by one, then queries through the page's pool.
    Plain or TLS is the environment's choice (PGSSLMODE)."""
    # The fresh connections bypass the pool: NullPool opens one per connect() and closes it
    # on close(), which is what every request would pay without pool_size=5.
    fresh = create_engine(database_url(), poolclass=NullPool)
    fresh.connect().close()  # untimed: the first connect also runs the dialect's one-time setup queries
    connect_ms = []
    for _ in range(params["connections"]):
        start = time.perf_counter()
        conn = fresh.connect()  # returns once TLS (if any) and SCRAM are done
        connect_ms.append(round((time.perf_counter() - start) * 1000, 3))
        conn.close()
    fresh.dispose()

    engine = make_engine()
    with engine.connect() as conn:  # warm-up: opens the pooled connection the queries reuse
        conn.execute(text("SELECT 1"))
    query_ms = []
    for _ in range(params["queries"]):
        start = time.perf_counter()
        # acquire, query, release (the pool rolls back the implicit transaction on return)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
        query_ms.append(round((time.perf_counter() - start) * 1000, 3))
    engine.dispose()
    return {"connect_ms": connect_ms, "query_ms": query_ms, "pooled": True}


# ---- session state, for the PgBouncer matrix (docs/pgbouncer.md) -----------------------------
# A statement prepared by name and a session setting live in one server session, which
# transaction pooling does not keep. Each statement is committed as a transaction of its own.

def prepared_statement_reuse(params):
    """The driver (psycopg2) has no protocol-level prepare: SQL's PREPARE and EXECUTE through
    text() on one Connection, so every EXECUTE runs in the session that PREPAREd."""
    engine = make_engine(params.get("pool"))
    try:
        with engine.connect() as conn:
            name = conn.dialect.identifier_preparer.quote(params["name"])
            conn.execute(text(f"PREPARE {name} (integer) AS SELECT id, name FROM users WHERE id = $1"))
            conn.commit()
            results = []
            for id_ in params["ids"]:
                found = conn.execute(text(f"EXECUTE {name} (:id)"), {"id": id_})
                results.append([{"id": row.id, "name": row.name} for row in found])
                conn.commit()
                if len(results) == 1:
                    checkpoint("prepared")  # the harness may replace server connections here
        return {"results": results}
    finally:
        engine.dispose()


def session_set(params):
    """set_config(name, value, false) is SET for the session, with the value bound. Two pooled
    connections are checked out; client 1 sets it, client 2 reads it, client 1 reads it back. At
    the checkpoints the harness may replace server connections."""
    engine = make_engine(params.get("pool"))

    def single_value(conn, query, **binds):
        value = conn.execute(text(query), binds).scalar_one()
        conn.commit()
        return value

    try:
        with engine.connect() as first, engine.connect() as second:
            read = "SELECT current_setting(:name, true)"
            checkpoint("connected")
            single_value(first, "SELECT set_config(:name, :value, false)", name=params["setting"], value=params["value"])
            other_client_read = single_value(second, read, name=params["setting"])
            checkpoint("before_read_back")
            return {"read_back": single_value(first, read, name=params["setting"]), "other_client_read": other_client_read}
    finally:
        engine.dispose()


def advisory_lock(params):
    """A session advisory lock: client 1 takes it, client 2 tries it, client 1 unlocks it (two
    pooled connections, each statement committed on its own)."""
    engine = make_engine(params.get("pool"))

    def single_value(conn, query):
        value = conn.execute(text(query), {"key": params["key"]}).scalar_one()
        conn.commit()
        return value

    try:
        with engine.connect() as first, engine.connect() as second:
            checkpoint("connected")
            single_value(first, "SELECT pg_advisory_lock(:key)")
            other_client_got_it = single_value(second, "SELECT pg_try_advisory_lock(:key)")
            checkpoint("before_unlock")
            return {"other_client_got_it": other_client_got_it, "unlocked": single_value(first, "SELECT pg_advisory_unlock(:key)")}
    finally:
        engine.dispose()


SCENARIOS = {
    "connect_now": connect_now, "select_rows": select_rows, "param_query": param_query,
    "active_users": active_users, "related_rows": related_rows, "transaction": transaction,
    "story_orm_n_plus_one": story_orm_n_plus_one, "story_pool_sizing": story_pool_sizing,
    "story_pool_exhaustion": story_pool_exhaustion,
    "story_pause_resume_cutover": ledger_stream, "story_pause_resume_limit": ledger_stream,
    "error_sqlstate": error_sqlstate, "types": types,
    "pool_bounded": pool_bounded, "pool_reuse": pool_reuse, "pool_release": pool_release,
    "pool_acquire_timeout": pool_acquire_timeout, "pool_release_on_error": pool_release_on_error,
    "pool_recovery_terminate": pool_recovery, "pool_recovery_restart": pool_recovery,
    "no_pool_exhaustion": no_pool_exhaustion,
    "tls_verify_full": tls_verify_full, "tls_wrong_ca": failed_connect, "tls_wrong_host": failed_connect,
    "plaintext_refused": failed_connect, "auth_wrong_password": failed_connect,
    "connect_latency": connect_latency, "connect_latency_tls": connect_latency,
    "prepared_statement_reuse": prepared_statement_reuse, "session_set": session_set,
    "advisory_lock": advisory_lock,
}


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
