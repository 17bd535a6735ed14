import psycopg

import _lib as lib
from _lib import PARAMS, MiniPool

pool = MiniPool(PARAMS["pool"]["max"])
pid = sqlstate = None
conn = pool.getconn()
try:
    pid = lib.backend_pid(conn)
    lib.failing_transaction(conn)
    pool.putconn(conn)  # The mistake: released on the success path only.
except psycopg.errors.UniqueViolation as exc:
    sqlstate = exc.sqlstate
lib.checkpoint("after_error")
after = lib.select_one_or_sqlstate(pool)
pool.close(wait=True)  # waits for the connection that never comes back
lib.checkpoint("after_close")
lib.result({"pid": pid, "failed_sqlstate": sqlstate, "after": after})
