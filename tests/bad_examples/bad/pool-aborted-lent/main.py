import psycopg

import _lib as lib
from _lib import PARAMS, MiniPool

# One connection, no validation on checkout: what comes back to the pool is lent out as it is.
pool = MiniPool(1, validate=False)
pid = sqlstate = None
conn = pool.getconn()
try:
    pid = lib.backend_pid(conn)
    lib.failing_transaction(conn)
except psycopg.errors.UniqueViolation as exc:
    sqlstate = exc.sqlstate
finally:
    pool.putconn(conn)  # The mistake: back to the pool with its failed transaction open (no ROLLBACK).
lib.checkpoint("after_error")
with pool.connection() as again:   # the same connection: 25P02, uncaught, and the program dies of it
    after = again.execute("SELECT 1").fetchone()[0]
pool.close()
lib.checkpoint("after_close")
lib.result({"pid": pid, "failed_sqlstate": sqlstate, "after": after})
