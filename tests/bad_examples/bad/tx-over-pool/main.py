import psycopg

import _lib as lib
from _lib import PARAMS, MiniPool

pool = MiniPool(2)


def query(sql, args=None):
    """Like node-postgres's pool.query: check out, run, release; a connection whose statement
    failed is discarded. Each call may get a different connection."""
    conn = pool.getconn()
    try:
        return conn.execute(sql, args).fetchall() if sql.startswith("SELECT") else conn.execute(sql, args)
    except psycopg.Error:
        conn.close()
        raise
    finally:
        pool.putconn(conn)


def insert(key):
    query("INSERT INTO users (id, name, active) VALUES (%s, %s, true)",
          [PARAMS[key], f"{PARAMS['name_prefix']} {PARAMS[key]}"])


# The mistake: BEGIN .. COMMIT/ROLLBACK as separate pool queries instead of on one checked-out
# connection. It looks right as long as the pool happens to lend the same connection.
query("BEGIN"); insert("committed_id"); query("COMMIT")
query("BEGIN"); insert("rolled_back_id"); query("ROLLBACK")
query("BEGIN")
insert("failed_id")
try:
    insert("duplicate_id")
    failed = None
except psycopg.Error as exc:
    failed = exc.sqlstate
query("ROLLBACK")  # the failed connection was discarded: this one has no transaction (25P01)
visible = [r[0] for r in query("SELECT id FROM users WHERE id >= 1000 ORDER BY id")]
pool.close()
lib.result({"visible": visible, "failed_sqlstate": failed})
