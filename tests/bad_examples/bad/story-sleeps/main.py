import _lib as lib
from _lib import PARAMS


def request(pool, rows):
    """The mistake: the old load, a sleep that contends for nothing, instead of the work."""
    import time
    start = time.perf_counter()
    with pool.connection() as conn:
        waited = (time.perf_counter() - start) * 1000
        seconds = PARAMS["long_seconds"] if rows == PARAMS["long_rows"] else PARAMS["short_seconds"]
        conn.execute("SELECT pg_sleep(%s)", [seconds], prepare=False)
    return waited


pools = [lib.MiniPool(PARAMS["pool"]["max"], PARAMS["pool"]["acquire_timeout_ms"], validate=False)
         for _ in range(PARAMS["services"])]
lib.result(lib.story_load(pools, request))
