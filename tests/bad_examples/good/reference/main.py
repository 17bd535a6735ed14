import psycopg

import _lib as lib
from _lib import PARAMS, SCENARIO, MiniPool


def rows(cursor):
    return [{"id": i, "name": n} for i, n in cursor.fetchall()]

if SCENARIO == "connect_now":
    lib.result({"now": lib.server_now()})
elif SCENARIO == "select_rows":
    lib.result({"rows": lib.user_rows()})
elif SCENARIO == "active_users":
    lib.result({"rows": lib.active_user_rows()})
elif SCENARIO == "related_rows":
    users = lib.active_user_rows()
    with lib.connect() as conn:  # every user's holdings in one more query, not one per user
        held = conn.execute("SELECT user_id, symbol, shares FROM holdings WHERE user_id = ANY(%s) ORDER BY id",
                            [[u["id"] for u in users]]).fetchall()
    lib.result({"users": lib.users_with_holdings(users, held)})
elif SCENARIO == "param_query":
    with lib.connect() as conn:  # psycopg 3 binds on the server ($1)
        by_id = rows(conn.execute("SELECT id, name FROM users WHERE id = %s", [PARAMS["id"]]))
        by_name = [rows(conn.execute("SELECT id, name FROM users WHERE name = %s ORDER BY id", [name]))
                   for name in PARAMS["names"]]
    lib.result({"by_id": by_id, "by_name": by_name})
elif SCENARIO == "transaction":
    def insert(conn, key):
        conn.execute("INSERT INTO users (id, name, active) VALUES (%s, %s, true)",
                     [PARAMS[key], f"{PARAMS['name_prefix']} {PARAMS[key]}"])
    failed = None
    with lib.connect(autocommit=False) as conn:  # one connection for every statement
        insert(conn, "committed_id")
        conn.commit()
        insert(conn, "rolled_back_id")
        conn.rollback()
        try:
            insert(conn, "failed_id")
            insert(conn, "duplicate_id")
        except psycopg.Error as exc:
            failed = exc.sqlstate
            conn.rollback()
        visible = [r[0] for r in conn.execute("SELECT id FROM users WHERE id >= 1000 ORDER BY id")]
        conn.commit()
    lib.result({"visible": visible, "failed_sqlstate": failed})
elif SCENARIO == "pool_release_on_error":
    pool = MiniPool(PARAMS["pool"]["max"])
    pid = sqlstate = None
    conn = pool.getconn()
    try:
        pid = lib.backend_pid(conn)
        lib.failing_transaction(conn)
    except psycopg.errors.UniqueViolation as exc:
        sqlstate = exc.sqlstate
        conn.execute("ROLLBACK")
    finally:
        pool.putconn(conn)
    lib.checkpoint("after_error")
    after = lib.select_one_or_sqlstate(pool)
    pool.close(wait=True)
    lib.checkpoint("after_close")
    lib.result({"pid": pid, "failed_sqlstate": sqlstate, "after": after})
elif SCENARIO == "no_pool_exhaustion":
    lib.result(lib.pooled_then_unpooled(MiniPool(PARAMS["pool"]["max"], PARAMS["pool"]["acquire_timeout_ms"])))
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
    lib.result(lib.second_acquire(MiniPool(PARAMS["pool"]["max"], PARAMS["pool"]["acquire_timeout_ms"])))
elif SCENARIO == "pool_recovery_restart":
    pool = MiniPool(PARAMS["pool"]["max"])
    first = lib.sleep_burst(pool, PARAMS["concurrency"], PARAMS["sleep_seconds"])
    lib.checkpoint("between_bursts")
    second = lib.sleep_burst(pool, PARAMS["concurrency"], PARAMS["sleep_seconds"])
    pool.close()
    lib.result({"first": first, "second": second})
elif SCENARIO == "story_pool_exhaustion":
    pools = [MiniPool(PARAMS["pool"]["max"], PARAMS["pool"]["acquire_timeout_ms"], validate=False)
             for _ in range(PARAMS["services"])]   # one pool per service
    lib.result(lib.story_load(pools))
elif SCENARIO == "tls_verify_full":
    lib.result(lib.tls_self_report())
elif SCENARIO == "tls_wrong_ca":
    lib.result(lib.failed_connect(lambda m: "certificate" if "certificate verify failed" in m else "other"))
elif SCENARIO == "tls_wrong_host":
    lib.result(lib.failed_connect(lambda m: "certificate" if "does not match host name" in m else "other"))
elif SCENARIO == "plaintext_refused":
    lib.result(lib.failed_connect(lambda m: "refused" if "pg_hba.conf" in m else "other"))
elif SCENARIO == "auth_wrong_password":
    lib.result(lib.failed_connect(lambda m: "auth" if "password authentication failed" in m else "other"))
elif SCENARIO in ("connect_latency", "connect_latency_tls"):
    lib.result(lib.connect_latency())
elif SCENARIO == "session_set":
    setting, value = PARAMS["setting"], PARAMS["value"]
    read = "SELECT current_setting(%s, true)"
    with lib.connect() as first, lib.connect() as second:
        lib.checkpoint("connected")
        first.execute("SELECT set_config(%s, %s, false)", [setting, value])
        other = second.execute(read, [setting]).fetchone()[0]
        lib.checkpoint("before_read_back")
        lib.result({"read_back": first.execute(read, [setting]).fetchone()[0], "other_client_read": other})
else:
    lib.unknown_scenario()
