import queue

import _lib as lib
from _lib import PARAMS

size = PARAMS["pool"]["max"]
connections = [lib.connect() for _ in range(size)]
idle: "queue.Queue" = queue.Queue()
for conn in connections:
    idle.put(conn)


def work():
    conn = idle.get(timeout=10)
    conn.execute("BEGIN")
    conn.execute("SELECT 1")
    # The mistake: no COMMIT, and the connection goes back as it is, still in the transaction.
    idle.put(conn)


summary = lib.run_burst(PARAMS["concurrency"], work)
lib.checkpoint("after_work")
# "Closing the pool" forgets it; the connections (still referenced) stay open.
lib.checkpoint("after_close")
lib.result(summary)
