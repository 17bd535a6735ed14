import threading

import _lib as lib
from _lib import PARAMS

tasks = PARAMS["concurrency"]
all_open = threading.Barrier(tasks)


def work():
    # The mistake: a new connection per task instead of one of the pool's max connections.
    with lib.connect() as conn:
        all_open.wait(timeout=20)
        conn.execute("SELECT pg_sleep(%s)", [PARAMS["sleep_seconds"]])


summary, elapsed = lib.timed(lambda: lib.run_burst(tasks, work))
lib.result({**summary, "elapsed_ms": elapsed})
