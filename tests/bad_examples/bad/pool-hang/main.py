import _lib as lib
from _lib import PARAMS, MiniPool

# The mistake: the pool is built without the scenario's acquire timeout, so it waits forever.
pool = MiniPool(PARAMS["pool"]["max"], acquire_timeout_ms=None)
held = pool.getconn()
second = pool.getconn()  # never returns
lib.result({"error": {"kind": "other", "type": "none", "message": "unreachable"}, "elapsed_ms": 0})
