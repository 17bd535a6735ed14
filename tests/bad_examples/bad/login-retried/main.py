import time

import _lib as lib

# The mistake: a wrong password never succeeds, but the loop tries it again and again.
start = time.monotonic()
for attempt in range(5):
    data = lib.failed_connect(lambda m: "auth" if "password authentication failed" in m else "other")
    if data["error"]["kind"] == "none":
        break
    time.sleep(0.7)
lib.result({**data, "elapsed_ms": round((time.monotonic() - start) * 1000, 2)})
