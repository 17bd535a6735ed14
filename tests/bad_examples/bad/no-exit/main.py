import time

import _lib as lib

conn = lib.connect()
now = conn.execute("SELECT now()").fetchone()[0]
lib.result({"now": now.isoformat()})
# The mistake: the connection is never closed, and what holds it (here a keep-alive loop, in
# Node an open socket) keeps the program alive after its result.
while True:
    time.sleep(3600)
