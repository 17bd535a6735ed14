import _lib as lib
from _lib import MiniPool

# One connection, no validation on checkout: what comes back to the pool is lent out as it is.
pool = MiniPool(1, validate=False)
pid, sqlstate = lib.fail_and_return_unrolled(pool)  # The mistake: back to the pool without a ROLLBACK.
lib.checkpoint("after_error")
with pool.connection() as again:   # the same connection: 25P02, uncaught, and the program dies of it
    after = again.execute("SELECT 1").fetchone()[0]
pool.close()
lib.checkpoint("after_close")
lib.result({"pid": pid, "failed_sqlstate": sqlstate, "after": after})
