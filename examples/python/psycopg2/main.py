"""The page's "psycopg2" sample, made runnable for the conformance harness.

The harness passes the connection in the standard libpq variables (PGHOST, PGPORT, ...), the
scenario in HARNESS_SCENARIO and its parameters as JSON in HARNESS_PARAMS. Standard output
carries exactly one JSON result line; what the sample prints goes to standard error.
libpq itself reads PGSSLMODE and PGSSLROOTCERT, so TLS settings apply without code here.
"""
import datetime
import decimal
import json
import os
import sys
import time
from contextlib import closing

import psycopg2
import psycopg2.extras
from psycopg2 import sql

# stdout carries the harness's JSON lines only: what the sample prints goes to stderr.
HARNESS_OUT, sys.stdout = sys.stdout, sys.stderr


# The page's sample, which every scenario runs through: connect() with the page's values as
# the defaults (libpq itself adds PGSSLMODE, PGSSLROOTCERT and PGAPPNAME), and its query.
# [START python_psycopg2]
def connect():
    return psycopg2.connect(
        host=os.environ.get("PGHOST", "localhost"),
        port=os.environ.get("PGPORT", "5432"),
        dbname=os.environ.get("PGDATABASE", "mydb"),
        user=os.environ.get("PGUSER", "postgres"),
        password=os.environ.get("PGPASSWORD", "secret"),
    )


def select_now():
    conn = connect()
    try:  # closed even when the query fails
        cur = conn.cursor()
        cur.execute("SELECT NOW()")
        row = cur.fetchone()
        print(row)
        cur.close()
        return row
    finally:
        conn.close()
# [END python_psycopg2]


def rows(cur):
    return [{"id": id_, "name": name} for id_, name in cur.fetchall()]


def connect_now(params):
    (now,) = select_now()
    return {"now": now.isoformat()}  # an aware datetime: the offset is included


def select_rows(params):
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, name FROM users ORDER BY id")
            return {"rows": rows(cur)}
    finally:
        conn.close()


def param_query(params):
    # psycopg2 binds client-side: it quotes each value into the %s placeholder itself
    # (the server sees a literal, never SQL built from the value by us).
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, name FROM users WHERE id = %s", (params["id"],))
            by_id = rows(cur)
            by_name = []
            for name in params["names"]:
                cur.execute("SELECT id, name FROM users WHERE name = %s ORDER BY id", (name,))
                by_name.append(rows(cur))
        return {"by_id": by_id, "by_name": by_name}
    finally:
        conn.close()


def active_users(params):
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, name FROM users WHERE active ORDER BY id")
            return {"rows": rows(cur)}
    finally:
        conn.close()


def related_rows(params):
    # One query for every active user and their holdings: the LEFT JOIN keeps a user who holds
    # nothing (one row with NULLs), where a query per user would be an N+1.
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT u.id, u.name, h.symbol, h.shares FROM users u"
                " LEFT JOIN holdings h ON h.user_id = u.id"
                " WHERE u.active ORDER BY u.id, h.id"
            )
            users = {}
            for id_, name, symbol, shares in cur.fetchall():
                user = users.setdefault(id_, {"id": id_, "name": name, "holdings": []})
                if symbol is not None:
                    user["holdings"].append({"symbol": symbol, "shares": shares})
            return {"users": list(users.values())}
    finally:
        conn.close()


def insert_user(cur, id_, name):
    cur.execute("INSERT INTO users (id, name, active) VALUES (%s, %s, %s)", (id_, name, True))


def transaction(params):
    # psycopg2 opens a transaction implicitly with the first statement (autocommit is off);
    # commit() and rollback() end it.
    prefix = params["name_prefix"]
    conn = connect()
    try:
        cur = conn.cursor()
        insert_user(cur, params["committed_id"], f"{prefix} {params['committed_id']}")
        conn.commit()

        insert_user(cur, params["rolled_back_id"], f"{prefix} {params['rolled_back_id']}")
        conn.rollback()

        failed_sqlstate = None
        try:
            insert_user(cur, params["failed_id"], f"{prefix} {params['failed_id']}")
            insert_user(cur, params["duplicate_id"], f"{prefix} {params['duplicate_id']}")
            conn.commit()
        except psycopg2.Error as e:
            failed_sqlstate = e.pgcode
            print(f"expected failure: {e.pgcode} {e.pgerror}", file=sys.stderr)
            conn.rollback()  # the whole transaction goes, failed_id with it

        cur.execute("SELECT id FROM users WHERE id >= 1000 ORDER BY id")
        visible = [id_ for (id_,) in cur.fetchall()]
        conn.commit()
        cur.close()
        return {"visible": visible, "failed_sqlstate": failed_sqlstate}
    finally:
        conn.close()


def error_sqlstate(params):
    conn = connect()
    try:
        cur = conn.cursor()
        sqlstates = {}
        for key, sql, args in [
            ("unique_violation", "INSERT INTO users (id, name) VALUES (%s, %s)",
             (params["duplicate_id"], f"duplicate {params['duplicate_id']}")),
            ("syntax_error", params["bad_sql"], None),
        ]:
            try:
                cur.execute(sql, args)
                conn.commit()
                sqlstates[key] = None
            except psycopg2.Error as e:
                sqlstates[key] = e.pgcode
                print(f"expected failure: {e.pgcode} {e.pgerror}", file=sys.stderr)
                conn.rollback()  # an error aborts the implicit transaction: end it to go on
        cur.execute("SELECT 1")
        (after,) = cur.fetchone()
        cur.close()
        return {**sqlstates, "after": after}
    finally:
        conn.close()


def types(params):
    v = params["values"]
    # The driver's native types for each column; psycopg2 adapts each one to a literal.
    native = (
        int(v["int8"]),
        decimal.Decimal(v["numeric"]),
        v["text"],
        v["bool"],
        datetime.datetime.fromisoformat(v["timestamptz"]),  # aware (the "Z" is UTC)
        datetime.date.fromisoformat(v["date"]),
        psycopg2.Binary(bytes.fromhex(v["bytea"])),
        psycopg2.extras.Json(v["jsonb"]),
        v["int_array"],  # a list becomes ARRAY[...]
        v["null"],  # None becomes NULL
    )
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO type_probe (i8, num, txt, flag, ts, d, bin, doc, arr, nothing)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                native,
            )
            (probe_id,) = cur.fetchone()
            conn.commit()
            cur.execute(
                "SELECT i8, num, txt, flag, ts, d, bin, doc, arr, nothing"
                " FROM type_probe WHERE id = %s",
                (probe_id,),
            )
            i8, num, txt, flag, ts, d, bin_, doc, arr, nothing = cur.fetchone()
        # What psycopg2 gives back: int, Decimal, str, bool, aware datetime, date,
        # memoryview, parsed JSON, list, None.
        return {"values": {
            "int8": str(i8),
            "numeric": str(num),
            "text": txt,
            "bool": flag,
            "timestamptz": ts.isoformat(),
            "date": d.isoformat(),
            "bytea": bytes(bin_).hex(),
            "jsonb": doc,
            "int_array": arr,
            "null": nothing,
        }}
    finally:
        conn.close()


# ---- lifecycle scenarios ----------------------------------------------------------------

def checkpoint(name):
    print(json.dumps({"type": "checkpoint", "name": name}), file=HARNESS_OUT, flush=True)
    sys.stdin.readline()  # the harness answers {"type": "continue", ...} when it is done


# libpq gives no SQLSTATE for a failed connect (pgcode is None): only the server's or OpenSSL's
# message, so the kind is read from the text.
CONNECT_ERROR_KINDS = {
    "certificate verify failed": "certificate",
    "does not match host name": "certificate",
    "pg_hba.conf": "refused",
    "password authentication failed": "auth",
}


def failed_connect(params):
    """Connect as the environment says and report the driver's error (the scenario expects one)."""
    start = time.monotonic()
    try:
        conn = connect()
        conn.cursor().execute("SELECT 1")
        conn.close()
        error = {"kind": "none", "type": "none", "sqlstate": None, "message": "connected"}
    except psycopg2.OperationalError as e:
        message = str(e).strip()
        print(f"expected failure: {message}", file=sys.stderr)
        kind = next((k for fragment, k in CONNECT_ERROR_KINDS.items() if fragment in message), "other")
        error = {"kind": kind, "type": f"psycopg2.{type(e).__name__}", "sqlstate": e.pgcode,
                 "message": message}
    return {"error": error, "elapsed_ms": round((time.monotonic() - start) * 1000, 2)}


def tls_verify_full(params):
    conn = connect()  # libpq verifies the server against PGSSLROOTCERT (PGSSLMODE=verify-full)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            ssl, version, cipher = cur.fetchone()
        checkpoint("connected")  # the harness reads pg_stat_ssl while this connection is open
        return {"ssl": ssl, "version": version, "cipher": cipher}
    finally:
        conn.close()


def connect_latency(params):
    """Fresh connections timed one by one, then queries on one open connection (no pool).
    Plain or TLS is the environment's choice (PGSSLMODE)."""
    connect_ms = []
    for _ in range(params["connections"]):
        start = time.perf_counter()
        conn = connect()  # returns once TLS (if any) and SCRAM are done
        connect_ms.append(round((time.perf_counter() - start) * 1000, 3))
        conn.close()
    query_ms = []
    conn = connect()
    try:
        with conn.cursor() as cur:
            for _ in range(params["queries"]):
                start = time.perf_counter()
                cur.execute("SELECT 1")
                cur.fetchone()
                query_ms.append(round((time.perf_counter() - start) * 1000, 3))
        conn.rollback()  # the first execute opened the implicit transaction
    finally:
        conn.close()
    return {"connect_ms": connect_ms, "query_ms": query_ms, "pooled": False}


# ---- session state, for the PgBouncer matrix (docs/pgbouncer.md) -----------------------------
# A statement prepared by name and a session setting live in one server session, which
# transaction pooling does not keep. autocommit: each statement is its own transaction (without
# it, psycopg2's implicit transaction would hold them all in one).

def prepared_statement_reuse(params):
    # psycopg2 has no protocol-level prepare (it sends every query as text): SQL's PREPARE names
    # the statement in the session, EXECUTE runs it by that name.
    name = sql.Identifier(params["name"])
    conn = connect()
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql.SQL("PREPARE {} (integer) AS SELECT id, name FROM users WHERE id = $1").format(name))
            results = []
            for id_ in params["ids"]:
                cur.execute(sql.SQL("EXECUTE {} (%s)").format(name), (id_,))
                results.append(rows(cur))
                if len(results) == 1:
                    checkpoint("prepared")  # the harness may replace server connections here
        return {"results": results}
    finally:
        conn.close()


def single_value(conn, query, args):
    with conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchone()[0]


def session_set(params):
    # set_config(name, value, false) is SET for the session, with the value bound. Client 1 sets
    # it, client 2 reads it, client 1 reads it back; at the checkpoints the harness may replace
    # server connections.
    with closing(connect()) as first, closing(connect()) as second:
        first.autocommit = second.autocommit = True
        read = "SELECT current_setting(%s, true)"
        checkpoint("connected")
        single_value(first, "SELECT set_config(%s, %s, false)", (params["setting"], params["value"]))
        other_client_read = single_value(second, read, (params["setting"],))
        checkpoint("before_read_back")
        return {"read_back": single_value(first, read, (params["setting"],)), "other_client_read": other_client_read}


def advisory_lock(params):
    # A session advisory lock: client 1 takes it, client 2 tries it, client 1 unlocks it.
    with closing(connect()) as first, closing(connect()) as second:
        first.autocommit = second.autocommit = True
        checkpoint("connected")
        single_value(first, "SELECT pg_advisory_lock(%s)", (params["key"],))
        other_client_got_it = single_value(second, "SELECT pg_try_advisory_lock(%s)", (params["key"],))
        checkpoint("before_unlock")
        unlocked = single_value(first, "SELECT pg_advisory_unlock(%s)", (params["key"],))
        return {"other_client_got_it": other_client_got_it, "unlocked": unlocked}


SCENARIOS = {f.__name__: f for f in [
    connect_now, select_rows, param_query, active_users, related_rows, transaction, error_sqlstate, types,
    tls_verify_full, connect_latency, prepared_statement_reuse, session_set,
    advisory_lock,
]}
SCENARIOS.update({
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
