from concurrent.futures import ThreadPoolExecutor

import _lib as lib
from _lib import PARAMS, MiniPool

# The mistake: the pool hands out its idle connections unchecked, and a failed query ends the
# program instead of being retried on a fresh connection.
pool = MiniPool(PARAMS["pool"]["max"], validate=False)


def task():
    with pool.connection() as conn:
        conn.execute("SELECT pg_sleep(%s)", [PARAMS["sleep_seconds"]])


def burst():
    with ThreadPoolExecutor(PARAMS["concurrency"]) as workers:
        futures = [workers.submit(task) for _ in range(PARAMS["concurrency"])]
        for future in futures:
            future.result()  # re-raises the first task's error
    return {"succeeded": PARAMS["concurrency"], "failed": 0, "errors": []}


first = burst()
lib.checkpoint("between_bursts")
second = burst()
lib.result({"first": first, "second": second})
