import _lib as lib
from _lib import PARAMS, MiniPool

# No validation on checkout: what comes back to the pool is lent out as it is.
pool = MiniPool(PARAMS["pool"]["max"], validate=False)
pid, sqlstate = lib.fail_and_return_unrolled(pool)  # The mistake: back to the pool without a ROLLBACK.
lib.checkpoint("after_error")
after = lib.select_one_or_sqlstate(pool)  # gets the same connection: 25P02
pool.close()
lib.checkpoint("after_close")
lib.result({"pid": pid, "failed_sqlstate": sqlstate, "after": after})
