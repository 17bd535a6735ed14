import time

import psycopg

import _lib as lib

start = time.monotonic()
try:
    lib.connect().close()
except psycopg.OperationalError:
    pass  # The mistake: the login error is swallowed, and what follows reports success.
lib.result({"error": {"kind": "none", "type": "none", "sqlstate": None, "message": "connected"},
            "elapsed_ms": round((time.monotonic() - start) * 1000, 2)})
