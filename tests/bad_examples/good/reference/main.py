import time

import _lib as lib
from _lib import PARAMS, SCENARIO, MiniPool, PoolTimeout

if SCENARIO == "connect_now":
    lib.result({"now": lib.server_now()})
elif SCENARIO == "select_rows":
    lib.result({"rows": lib.user_rows()})
elif SCENARIO == "pool_bounded":
    pool = MiniPool(PARAMS["pool"]["max"])
    summary, elapsed = lib.timed(lambda: lib.sleep_burst(pool, PARAMS["concurrency"], PARAMS["sleep_seconds"]))
    pool.close()
    lib.result({**summary, "elapsed_ms": elapsed})
elif SCENARIO == "pool_release":
    pool = MiniPool(PARAMS["pool"]["max"])

    def work():
        with pool.connection() as conn, conn.transaction():
            conn.execute("SELECT 1")
    summary = lib.run_burst(PARAMS["concurrency"], work)
    lib.checkpoint("after_work")
    pool.close()
    lib.checkpoint("after_close")
    lib.result(summary)
elif SCENARIO == "pool_acquire_timeout":
    pool = MiniPool(PARAMS["pool"]["max"], PARAMS["pool"]["acquire_timeout_ms"])
    held = pool.getconn()
    start = time.monotonic()
    try:
        pool.putconn(pool.getconn())
        error = {"kind": "other", "type": "none", "message": "the second acquire succeeded"}
    except PoolTimeout as exc:
        error = {"kind": "pool_timeout", "type": "PoolTimeout", "message": str(exc)}
    elapsed = int((time.monotonic() - start) * 1000)
    pool.putconn(held)
    pool.close()
    lib.result({"error": error, "elapsed_ms": elapsed})
elif SCENARIO == "pool_recovery_restart":
    pool = MiniPool(PARAMS["pool"]["max"])
    first = lib.sleep_burst(pool, PARAMS["concurrency"], PARAMS["sleep_seconds"])
    lib.checkpoint("between_bursts")
    second = lib.sleep_burst(pool, PARAMS["concurrency"], PARAMS["sleep_seconds"])
    pool.close()
    lib.result({"first": first, "second": second})
elif SCENARIO == "tls_verify_full":
    lib.result(lib.tls_self_report())
elif SCENARIO == "tls_wrong_ca":
    lib.result(lib.failed_connect(lambda m: "certificate" if "certificate verify failed" in m else "other"))
elif SCENARIO == "plaintext_refused":
    lib.result(lib.failed_connect(lambda m: "refused" if "pg_hba.conf" in m else "other"))
elif SCENARIO == "auth_wrong_password":
    lib.result(lib.failed_connect(lambda m: "auth" if "password authentication failed" in m else "other"))
elif SCENARIO in ("connect_latency", "connect_latency_tls"):
    lib.result(lib.connect_latency())
else:
    lib.unknown_scenario()
