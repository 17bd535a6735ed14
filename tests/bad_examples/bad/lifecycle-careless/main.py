import os
import threading
import time

import _lib as lib
from _lib import PARAMS, SCENARIO

if SCENARIO == "tls_verify_full":
    # Turns TLS off "to make the connection work" and reports what the docs say it should be.
    os.environ["PGSSLMODE"] = "disable"
    with lib.connect() as conn:
        conn.execute("SELECT 1")
        lib.checkpoint("connected")
    lib.result({"ssl": True, "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384"})
elif SCENARIO == "tls_wrong_ca":
    # sslmode=require: encrypted, but any certificate is accepted (no verification).
    os.environ["PGSSLMODE"] = "require"
    os.environ.pop("PGSSLROOTCERT")
    lib.result(lib.failed_connect(lambda m: "certificate" if "certificate" in m else "other"))
elif SCENARIO == "plaintext_refused":
    # Never tries: writes down what the server would have said.
    lib.result({"error": {"kind": "refused", "type": "OperationalError", "sqlstate": None,
                          "message": 'FATAL:  pg_hba.conf rejects connection for host "127.0.0.1", no encryption'}})
elif SCENARIO == "auth_wrong_password":
    data = lib.failed_connect(lambda m: "auth" if "password authentication failed" in m else "other")
    lib.result(data)
    # A background "reconnect" thread nobody stops keeps the process alive after the failure.
    threading.Thread(target=time.sleep, args=(4,)).start()
elif SCENARIO == "connect_latency":
    # Times 5 connections and pads the list to the 30 asked for.
    real = lib.connect_latency_of(5, PARAMS["queries"])
    lib.result({**real, "connect_ms": (real["connect_ms"] * 6)[:PARAMS["connections"]]})
elif SCENARIO == "connect_latency_tls":
    # Drops TLS to look faster.
    os.environ["PGSSLMODE"] = "disable"
    lib.result(lib.connect_latency())
else:
    lib.unknown_scenario()
